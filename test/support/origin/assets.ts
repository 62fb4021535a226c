import { PNG } from 'pngjs';

// Static assets of the sample origin. Built once, byte-stable, so their hashes are fixed.

export const siteCss = `:root { --ink: #1d2433; --accent: #2b6cb0; --paper: #fbfaf7; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 Georgia, serif; color: var(--ink); background: var(--paper); }
header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: #e9eef5; }
header img { width: 48px; height: 48px; }
nav a { margin-right: 14px; color: var(--accent); }
main { max-width: 760px; margin: 0 auto; padding: 16px 24px; }
.notice { border-left: 4px solid #c53030; padding: 8px 12px; background: #fff5f5; }
.price { font-weight: bold; color: #22543d; }
.quote { font-style: italic; color: #4a5568; }
.hero { width: 100%; max-width: 640px; height: 160px; display: block; }
footer { padding: 12px 24px; font-size: 13px; color: #718096; }
table { border-collapse: collapse; } td, th { border: 1px solid #cbd5e0; padding: 4px 8px; }
.js-ready .js-badge { display: inline; } .js-badge { display: none; color: #2f855a; }
`;

export const appJs = `(function () {
  document.documentElement.classList.add('js-ready');
  var year = document.getElementById('year');
  if (year) year.textContent = '2026';
  var items = document.querySelectorAll('[data-qty]');
  for (var i = 0; i < items.length; i++) items[i].setAttribute('title', 'In stock: ' + items[i].getAttribute('data-qty'));
  var promo = document.querySelector('[data-message]');
  if (promo) promo.textContent = promo.getAttribute('data-message');
})();
`;

/** A PNG of `w`×`h` filled by `paint(x, y) → [r, g, b]`. */
export function makePng(w: number, h: number, paint: (x: number, y: number) => [number, number, number]): Buffer {
  const png = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = paint(x, y);
      const i = (w * y + x) << 2;
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

export const logoPng = makePng(48, 48, (x, y) => ((x - 24) ** 2 + (y - 24) ** 2 < 400 ? [43, 108, 176] : [233, 238, 245]));
export const heroPng = makePng(320, 80, (x, y) => [40 + Math.floor((x * 180) / 320), 90 + Math.floor((y * 100) / 80), 160]);
/** What an image-swapping node serves instead of the hero. */
export const swappedPng = makePng(320, 80, (x, y) => ((x >> 4) % 2 === (y >> 4) % 2 ? [220, 30, 30] : [250, 220, 0]));

export interface StaticAsset {
  contentType: string;
  body: Buffer;
}

export const staticAssets: Record<string, StaticAsset> = {
  '/static/site.css': { contentType: 'text/css; charset=utf-8', body: Buffer.from(siteCss) },
  '/static/app.js': { contentType: 'text/javascript; charset=utf-8', body: Buffer.from(appJs) },
  '/static/logo.png': { contentType: 'image/png', body: logoPng },
  '/static/hero.png': { contentType: 'image/png', body: heroPng },
};
