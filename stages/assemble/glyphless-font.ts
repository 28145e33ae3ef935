/**
 * The invisible text layer's font: a TrueType font whose glyphs are all blank, embedded as a Type0
 * (CID) font with Identity-H encoding and an identity ToUnicode map, the way Tesseract and OCRmyPDF
 * write their text layers. Every UTF-16 code unit is a character id, so any text the recogniser
 * reads (Chinese included) can be searched and copied, which a standard font's WinAnsi encoding
 * cannot do; nothing is ever drawn with it, so it needs no real glyphs.
 */
import { type PDFDocument, PDFHexString, PDFName, type PDFRef, PDFString } from 'pdf-lib';

/** Units per em, and each character's advance: half an em, stretched per word to its box. */
const UNITS = 1000;
export const ADVANCE = 0.5;
/** The font's ascent and descent in ems: a viewer's selection highlight spans them. */
export const ASCENT = 0.8;
export const DESCENT = 0.2;

class Writer {
  private readonly bytes: number[] = [];
  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v >> 8).u8(v);
  }
  i16(v: number): this {
    return this.u16(v < 0 ? v + 0x10000 : v);
  }
  u32(v: number): this {
    return this.u16(Math.floor(v / 0x10000) & 0xffff).u16(v & 0xffff);
  }
  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.u8(0);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function checksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 4) {
    sum =
      (sum +
        ((data[i]! << 24) | ((data[i + 1] ?? 0) << 16) | ((data[i + 2] ?? 0) << 8) | (data[i + 3] ?? 0))) >>>
      0;
  }
  return sum;
}

/** A TrueType font of two blank glyphs (.notdef and one blank), every table a parser requires. */
export function glyphlessTrueType(): Uint8Array {
  const ascent = ASCENT * UNITS;
  const descent = -DESCENT * UNITS;
  const advance = ADVANCE * UNITS;
  const name = (() => {
    // Family (1) and PostScript name (6), Windows Unicode, UTF-16BE.
    const text = 'GlyphLessFont';
    const utf16 = new Writer();
    for (const c of text) utf16.u16(c.charCodeAt(0));
    const str = utf16.done();
    const w = new Writer()
      .u16(0)
      .u16(2)
      .u16(6 + 2 * 12);
    for (const id of [1, 6]) w.u16(3).u16(1).u16(0x409).u16(id).u16(str.length).u16(0);
    const head = w.done();
    return Uint8Array.from([...head, ...str]);
  })();
  const tables: Record<string, Uint8Array> = {
    // cmap: format 4 with only the closing segment; glyphs are reached through CIDToGIDMap.
    cmap: new Writer()
      .u16(0)
      .u16(1)
      .u16(3)
      .u16(1)
      .u32(12)
      .u16(4)
      .u16(24)
      .u16(0)
      .u16(2)
      .u16(2)
      .u16(0)
      .u16(0)
      .u16(0xffff)
      .u16(0)
      .u16(0xffff)
      .u16(1)
      .u16(0)
      .done(),
    glyf: new Writer().zeros(4).done(),
    head: new Writer()
      .u32(0x00010000)
      .u32(0x00010000)
      .u32(0) // checkSumAdjustment, set below
      .u32(0x5f0f3cf5)
      .u16(0x000b)
      .u16(UNITS)
      .zeros(16) // created, modified
      .i16(0)
      .i16(descent)
      .i16(advance)
      .i16(ascent)
      .u16(0)
      .u16(3)
      .i16(2)
      .i16(0) // short loca offsets
      .i16(0)
      .done(),
    hhea: new Writer()
      .u32(0x00010000)
      .i16(ascent)
      .i16(descent)
      .i16(0)
      .u16(advance)
      .i16(0)
      .i16(0)
      .i16(0)
      .i16(1)
      .i16(0)
      .i16(0)
      .zeros(8)
      .i16(0)
      .u16(2)
      .done(),
    hmtx: new Writer().u16(advance).i16(0).u16(advance).i16(0).done(),
    // Short offsets, numGlyphs + 1 of them: both glyphs empty.
    loca: new Writer().u16(0).u16(0).u16(0).done(),
    maxp: new Writer().u32(0x00010000).u16(2).u16(0).u16(0).u16(0).u16(0).u16(2).zeros(16).done(),
    name,
    post: new Writer().u32(0x00030000).zeros(28).done(),
  };
  const tags = Object.keys(tables).sort();
  const count = tags.length;
  const power = 2 ** Math.floor(Math.log2(count));
  const header = new Writer()
    .u32(0x00010000)
    .u16(count)
    .u16(power * 16)
    .u16(Math.log2(power))
    .u16(count * 16 - power * 16);
  let offset = 12 + 16 * count;
  let headAt = 0;
  const body: number[] = [];
  for (const tag of tags) {
    const data = tables[tag]!;
    if (tag === 'head') headAt = offset;
    for (const c of tag) header.u8(c.charCodeAt(0));
    header.u32(checksum(data)).u32(offset).u32(data.length);
    const padded = (data.length + 3) & ~3;
    body.push(...data, ...new Array<number>(padded - data.length).fill(0));
    offset += padded;
  }
  const font = Uint8Array.from([...header.done(), ...body]);
  // head.checkSumAdjustment makes the whole font sum to 0xB1B0AFBA.
  new DataView(font.buffer).setUint32(headAt + 8, (0xb1b0afba - checksum(font)) >>> 0);
  return font;
}

const TO_UNICODE = `/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end
`;

/** Embeds the glyphless font in `doc` once; returns the font dictionary to name on each page. */
export function embedGlyphlessFont(doc: PDFDocument): PDFRef {
  const { context } = doc;
  const program = glyphlessTrueType();
  const fontFile = context.register(context.flateStream(program, { Length1: program.length }));
  const descriptor = context.register(
    context.obj({
      Type: 'FontDescriptor',
      FontName: 'GlyphLessFont',
      Flags: 5,
      FontBBox: [0, -DESCENT * UNITS, ADVANCE * UNITS, ASCENT * UNITS],
      ItalicAngle: 0,
      Ascent: ASCENT * UNITS,
      Descent: -DESCENT * UNITS,
      CapHeight: ASCENT * UNITS,
      StemV: 80,
      FontFile2: fontFile,
    }),
  );
  // Every character id shows glyph 1, the blank one.
  const gids = new Uint8Array(65536 * 2);
  for (let i = 1; i < gids.length; i += 2) gids[i] = 1;
  const cidToGid = context.register(context.flateStream(gids));
  const cidFont = context.register(
    context.obj({
      Type: 'Font',
      Subtype: 'CIDFontType2',
      BaseFont: 'GlyphLessFont',
      CIDSystemInfo: { Registry: PDFString.of('Adobe'), Ordering: PDFString.of('Identity'), Supplement: 0 },
      FontDescriptor: descriptor,
      DW: ADVANCE * UNITS,
      CIDToGIDMap: cidToGid,
    }),
  );
  const toUnicode = context.register(context.flateStream(TO_UNICODE));
  return context.register(
    context.obj({
      Type: 'Font',
      Subtype: 'Type0',
      BaseFont: 'GlyphLessFont',
      Encoding: PDFName.of('Identity-H'),
      DescendantFonts: [cidFont],
      ToUnicode: toUnicode,
    }),
  );
}

/** A text string in the font's encoding: its UTF-16 code units, one character id each. */
export function encodeGlyphless(text: string): PDFHexString {
  let hex = '';
  for (let i = 0; i < text.length; i++) hex += text.charCodeAt(i).toString(16).padStart(4, '0');
  return PDFHexString.of(hex);
}
