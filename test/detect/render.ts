/** Test pages made here: DejaVu text rendered by sharp (pango) onto a white page, with known boxes. */
import sharp from 'sharp';

export interface Placed {
  text: string;
  left: number;
  top: number;
  /** Points at 300 DPI. Default 10. */
  size?: number;
  font?: string;
}

export interface RenderedPage {
  png: Buffer;
  width: number;
  height: number;
  /** Where each item's text image landed (its ink lies inside). */
  boxes: Array<{ text: string; x0: number; y0: number; x1: number; y1: number }>;
}

function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Black text on white, as a 3-channel PNG. */
export async function textImage(text: string, size = 10, font = 'DejaVu Sans'): Promise<Buffer> {
  // sharp renders text white on black: negate to print it.
  return sharp({ text: { text: escapeMarkup(text), font: `${font} ${size}`, dpi: 300 } })
    .negate()
    .png()
    .toBuffer();
}

export async function renderPage(
  width: number,
  height: number,
  items: readonly Placed[],
): Promise<RenderedPage> {
  const images = await Promise.all(items.map((i) => textImage(i.text, i.size ?? 10, i.font)));
  const metas = await Promise.all(images.map((png) => sharp(png).metadata()));
  const png = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(
      images.map((input, k) => ({
        input,
        left: items[k]!.left,
        top: items[k]!.top,
        blend: 'multiply' as const,
      })),
    )
    .png()
    .toBuffer();
  return {
    png,
    width,
    height,
    boxes: items.map((item, k) => ({
      text: item.text,
      x0: item.left,
      y0: item.top,
      x1: item.left + metas[k]!.width,
      y1: item.top + metas[k]!.height,
    })),
  };
}

/** Turns a page a half turn (an upside-down scan). */
export async function rotate180(png: Buffer): Promise<Buffer> {
  return sharp(png).rotate(180).png().toBuffer();
}
