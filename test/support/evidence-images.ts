import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';

// Page-like screenshots for seeded audits: an origin rendering and a node rendering with an
// injected banner, and the real pixelmatch diff of the two.

type Rgb = [number, number, number];

function fillRect(png: PNG, x0: number, y0: number, w: number, h: number, [r, g, b]: Rgb): void {
  for (let y = Math.max(0, y0); y < Math.min(png.height, y0 + h); y++) {
    for (let x = Math.max(0, x0); x < Math.min(png.width, x0 + w); x++) {
      const i = (png.width * y + x) << 2;
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = 255;
    }
  }
}

/** A shop page: header, hero, text lines and product cards; `injected` adds a rogue banner. */
export function pagePng(opts: { width?: number; height?: number; injected?: boolean } = {}): PNG {
  const width = opts.width ?? 640;
  const height = opts.height ?? 400;
  const png = new PNG({ width, height });
  fillRect(png, 0, 0, width, height, [250, 250, 247]);
  fillRect(png, 0, 0, width, 48, [32, 56, 100]);
  fillRect(png, 20, 16, 120, 16, [240, 240, 240]);
  for (let i = 0; i < 4; i++) fillRect(png, width - 300 + i * 70, 20, 50, 8, [190, 200, 220]);
  fillRect(png, 20, 70, width - 40, 110, [222, 230, 240]);
  fillRect(png, 40, 95, 260, 20, [60, 70, 90]);
  fillRect(png, 40, 130, 200, 10, [120, 130, 150]);
  for (let i = 0; i < 3; i++) {
    const x = 20 + i * ((width - 40) / 3);
    fillRect(png, x + 6, 200, (width - 40) / 3 - 12, 120, [255, 255, 255]);
    fillRect(png, x + 16, 210, (width - 40) / 3 - 32, 60, [200, 214, 190 + i * 20]);
    fillRect(png, x + 16, 282, 90, 8, [70, 70, 70]);
    fillRect(png, x + 16, 298, 50, 8, [30, 120, 60]);
  }
  for (let y = 340; y < height - 20; y += 16) fillRect(png, 20, y, width - 80 - ((y * 7) % 90), 6, [150, 150, 150]);
  if (opts.injected) {
    fillRect(png, 20, 186, width - 40, 40, [220, 40, 40]);
    fillRect(png, 36, 200, 240, 12, [255, 235, 235]);
    fillRect(png, width - 140, 196, 100, 20, [255, 210, 0]);
  }
  return png;
}

export function pngBytes(png: PNG): Buffer {
  return PNG.sync.write(png);
}

/** Both screenshots and their diff image, as the auditor stores them. */
export function screenshotTriple(opts: { width?: number; height?: number } = {}): { origin: Buffer; node: Buffer; diff: Buffer; changedPixels: number } {
  const origin = pagePng({ ...opts, injected: false });
  const node = pagePng({ ...opts, injected: true });
  const diff = new PNG({ width: origin.width, height: origin.height });
  const changedPixels = pixelmatch(origin.data, node.data, diff.data, origin.width, origin.height, { threshold: 0.1 });
  return { origin: pngBytes(origin), node: pngBytes(node), diff: pngBytes(diff), changedPixels };
}
