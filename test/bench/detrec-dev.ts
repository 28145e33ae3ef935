/**
 * Detect + recognise over the dev halves (SROIE receipts, FUNSD forms) and over generated 300 DPI
 * pages (clean and skewed-noisy), printing CER and word-bag F1 per set and seconds per page.
 * A tuning aid for the detect/recognize stages; the official benchmark is `npm run bench:quality`.
 *
 *   npm run bench:detrec -- [--sets sroie,funsd,pages] [--limit N] [--detect JSON] [--recognize JSON] [--worst N] [--out DIR]
 *
 * CPU seconds are process.cpuUsage() (all threads); run with DOCPIPE_ORT_THREADS=1 to see the cost of one worker.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { type DetectOptions, detectText } from '../../stages/detect/core.ts';
import { type RecognizeOptions, recognizeText } from '../../stages/recognize/core.ts';
import { getModelStore } from '../../stages/shared/model-store.ts';
import { datasetRoot, devScans, SCAN_SETS, type ScanSet, truthFile } from '../support/datasets.ts';
import {
  addBags,
  addEdits,
  type BagCount,
  bagCount,
  bagScore,
  charEdits,
  type EditCount,
  rate,
} from './metrics.ts';

const DATASETS = datasetRoot();

interface Sample {
  name: string;
  load: () => Promise<Buffer>;
  truth: string;
}

function datasetSamples(set: ScanSet): Sample[] {
  const scans = devScans(DATASETS, set);
  if (scans === undefined) return [];
  return scans.files.map((f) => ({
    name: f.slice(0, -set.extension.length),
    load: async () => readFileSync(join(scans.dir, f)),
    truth: readFileSync(join(scans.dir, truthFile(f)), 'utf8'),
  }));
}

/** Deterministic 300 DPI A4 pages of real English lines (UW-III ground truth), clean or skewed and noisy. */
export function pageSamples(count: number): Sample[] {
  const dir = join(DATASETS, 'uw3_lines/dev');
  if (!existsSync(dir)) return [];
  const corpus = readdirSync(dir)
    .filter((f) => f.endsWith('.gt.txt'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8').trim())
    .filter((l) => l.length > 20 && /^[\x20-\x7e]+$/.test(l));
  const samples: Sample[] = [];
  for (let k = 0; k < count; k++) {
    const lines = corpus.slice(k * 30, k * 30 + 30).map((l) => l.slice(0, 80));
    const skewed = k % 2 === 1;
    const font = k % 4 < 2 ? 'DejaVu Serif' : 'DejaVu Sans';
    samples.push({
      name: `page${k}${skewed ? '-skewed-noisy' : '-clean'}`,
      truth: lines.join('\n'),
      load: async () => {
        const escaped = lines.map((l) =>
          l.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
        );
        const text = await sharp({
          text: { text: escaped.join('\n'), font: `${font} 10`, dpi: 300, spacing: 12, width: 2100 },
        })
          .negate()
          .png()
          .toBuffer();
        let png = await sharp({ create: { width: 2480, height: 3508, channels: 3, background: '#ffffff' } })
          .composite([{ input: text, top: 250, left: 190, blend: 'multiply' }])
          .png()
          .toBuffer();
        if (skewed) {
          const angle = k % 4 === 1 ? 2.5 : -4;
          png = await sharp(png).rotate(angle, { background: '#ffffff' }).png().toBuffer();
          const meta = await sharp(png).metadata();
          // Salt-and-pepper specks and a grey cast, seeded so every run sees the same page.
          const noise = Buffer.alloc(meta.width * meta.height);
          let seed = 12345 + k;
          for (let i = 0; i < noise.length; i++) {
            seed = (seed * 1103515245 + 12345) & 0x7fffffff;
            noise[i] = seed % 500 === 0 ? 0 : 255;
          }
          png = await sharp(png)
            .greyscale()
            .composite([
              {
                input: noise,
                raw: { width: meta.width, height: meta.height, channels: 1 },
                blend: 'multiply',
              },
            ])
            .linear(0.85, 10)
            .png()
            .toBuffer();
        }
        return png;
      },
    });
  }
  return samples;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sets: { type: 'string', default: 'sroie,funsd,pages' },
      limit: { type: 'string' },
      detect: { type: 'string', default: '{}' },
      recognize: { type: 'string', default: '{}' },
      worst: { type: 'string', default: '0' },
      pages: { type: 'string', default: '4' },
      dump: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const detectOptions = JSON.parse(values.detect) as DetectOptions;
  const recognizeOptions = JSON.parse(values.recognize) as RecognizeOptions;
  const limit = values.limit ? Number(values.limit) : Number.POSITIVE_INFINITY;
  await getModelStore().warm();

  const sets: Record<string, () => Sample[]> = {
    ...Object.fromEntries(SCAN_SETS.map((set) => [set.name, () => datasetSamples(set)])),
    pages: () => pageSamples(Number(values.pages)),
  };
  for (const setName of values.sets.split(',')) {
    const all = sets[setName]?.() ?? [];
    // Evenly spaced subset, so a quick run still spans the set.
    const step = all.length / Math.min(all.length, limit);
    const samples =
      all.length <= limit ? all : Array.from({ length: limit }, (_, i) => all[Math.floor(i * step)]!);
    if (samples.length === 0) {
      console.log(`${setName}: no data`);
      continue;
    }
    let edits: EditCount = { edits: 0, length: 0 };
    let bag: BagCount = { matched: 0, hypothesis: 0, reference: 0 };
    let joined: BagCount = { matched: 0, hypothesis: 0, reference: 0 };
    let seconds = 0;
    let detCpu = 0;
    let recCpu = 0;
    const perPage: Array<{ name: string; f1: number; cer: number }> = [];
    for (const sample of samples) {
      const png = await sample.load();
      const started = performance.now();
      // CPU time of the whole process (onnxruntime and libvips threads included): wall-clock
      // depends on what else runs on the machine.
      const cpu0 = process.cpuUsage();
      const detection = await detectText(png, detectOptions);
      const cpu1 = process.cpuUsage(cpu0);
      const result = await recognizeText(png, detection, recognizeOptions);
      const cpu2 = process.cpuUsage(cpu0);
      seconds += (performance.now() - started) / 1000;
      detCpu += (cpu1.user + cpu1.system) / 1e6;
      recCpu += (cpu2.user + cpu2.system - cpu1.user - cpu1.system) / 1e6;
      const text = result.lines.map((l) => l.text).join('\n');
      if (values.out) {
        mkdirSync(values.out, { recursive: true });
        writeFileSync(join(values.out, `${setName}-${sample.name}.txt`), `${text}\n`);
        writeFileSync(join(values.out, `${setName}-${sample.name}.gt.txt`), sample.truth);
      }
      if (values.dump === sample.name) {
        console.log(text);
        console.log('---- truth');
        console.log(sample.truth);
      }
      const pageEdits = charEdits(text, sample.truth, { normalize: true });
      const pageBag = bagCount(text, sample.truth);
      edits = addEdits(edits, pageEdits);
      bag = addBags(bag, pageBag);
      joined = addBags(joined, bagCount(text, sample.truth, { joinPunctuation: true }));
      perPage.push({ name: sample.name, f1: bagScore(pageBag).f1, cer: rate(pageEdits) });
    }
    const { precision, recall, f1 } = bagScore(bag);
    const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
    console.log(
      `${setName.padEnd(6)} pages ${String(samples.length).padStart(3)}  CER ${pct(rate(edits))}  word-bag F1 ${pct(f1)} (P ${pct(precision)} R ${pct(recall)}, joined ${pct(bagScore(joined).f1)})  ${(seconds / samples.length).toFixed(3)} s/page wall, CPU ${(detCpu / samples.length).toFixed(3)} detect + ${(recCpu / samples.length).toFixed(3)} recognize s/page`,
    );
    const worst = Number(values.worst);
    if (worst > 0) {
      for (const page of perPage.sort((a, b) => a.f1 - b.f1).slice(0, worst)) {
        console.log(`   ${page.name}  F1 ${pct(page.f1)}  CER ${pct(page.cer)}`);
      }
    }
  }
}

if (import.meta.main) await main();
