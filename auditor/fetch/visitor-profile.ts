// A realistic visitor mix: what the node sees of an audit must look like one of these visitors.
// Header sets and their order follow what the real browsers send; the choice is random per audit.

export type Destination = 'document' | 'script' | 'style' | 'image' | 'font' | 'other';

export interface VisitorProfile {
  family: 'chrome' | 'firefox' | 'safari' | 'edge';
  userAgent: string;
  acceptLanguage: string;
  /** Navigator fields the rendered page sees, matching the user agent. */
  platform: string;
  mobile: boolean;
  viewport: { width: number; height: number };
  /** Address the pin claims the visitor has (the balancer uses it for geo only). */
  clientIp: string;
}

interface Browser {
  family: VisitorProfile['family'];
  userAgent: string;
  platform: string;
  mobile: boolean;
  viewport: { width: number; height: number };
  weight: number;
}

const chromeVersion = '131.0.0.0';
const browsers: Browser[] = [
  { family: 'chrome', weight: 30, platform: 'Win32', mobile: false, viewport: { width: 1366, height: 768 }, userAgent: `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion} Safari/537.36` },
  { family: 'chrome', weight: 12, platform: 'MacIntel', mobile: false, viewport: { width: 1440, height: 900 }, userAgent: `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion} Safari/537.36` },
  { family: 'chrome', weight: 20, platform: 'Linux armv8l', mobile: true, viewport: { width: 412, height: 915 }, userAgent: `Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion} Mobile Safari/537.36` },
  { family: 'edge', weight: 6, platform: 'Win32', mobile: false, viewport: { width: 1536, height: 864 }, userAgent: `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion} Safari/537.36 Edg/131.0.0.0` },
  { family: 'firefox', weight: 8, platform: 'Win32', mobile: false, viewport: { width: 1920, height: 1080 }, userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0' },
  { family: 'firefox', weight: 3, platform: 'Linux x86_64', mobile: false, viewport: { width: 1920, height: 1080 }, userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0' },
  { family: 'safari', weight: 9, platform: 'MacIntel', mobile: false, viewport: { width: 1440, height: 900 }, userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15' },
  { family: 'safari', weight: 12, platform: 'iPhone', mobile: true, viewport: { width: 390, height: 844 }, userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1' },
];

// Language and a plausible public address block for each region (weights ≈ traffic share).
const regions: Array<{ weight: number; languages: string[]; prefixes: string[] }> = [
  { weight: 30, languages: ['en-US,en;q=0.9', 'en-US,en;q=0.9,es;q=0.8'], prefixes: ['73.', '98.', '24.', '174.'] },
  { weight: 12, languages: ['en-GB,en;q=0.9', 'en-GB,en-US;q=0.9,en;q=0.8'], prefixes: ['81.', '86.', '90.'] },
  { weight: 18, languages: ['de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7', 'de,en-US;q=0.7,en;q=0.3'], prefixes: ['84.', '91.', '93.'] },
  { weight: 10, languages: ['fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7', 'fr,fr-FR;q=0.8,en-US;q=0.5,en;q=0.3'], prefixes: ['82.', '88.', '109.'] },
  { weight: 8, languages: ['es-ES,es;q=0.9', 'es-ES,es;q=0.9,en;q=0.8'], prefixes: ['79.', '83.'] },
  { weight: 8, languages: ['pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7'], prefixes: ['177.', '189.'] },
  { weight: 7, languages: ['ja,en-US;q=0.9,en;q=0.8'], prefixes: ['126.', '153.'] },
  { weight: 7, languages: ['hi-IN,hi;q=0.9,en-US;q=0.8,en;q=0.7', 'en-IN,en;q=0.9'], prefixes: ['49.', '106.'] },
];

function pick<T extends { weight: number }>(items: T[], random: () => number): T {
  const total = items.reduce((s, i) => s + i.weight, 0);
  let r = random() * total;
  for (const item of items) {
    r -= item.weight;
    if (r < 0) return item;
  }
  return items[items.length - 1] as T;
}

const octet = (random: () => number) => 1 + Math.floor(random() * 253);
const one = <T>(list: T[], random: () => number): T => list[Math.floor(random() * list.length)] ?? (list[0] as T);

export function drawVisitor(random: () => number): VisitorProfile {
  const b = pick(browsers, random);
  const region = pick(regions, random);
  const jitter = b.mobile ? 0 : Math.floor(random() * 3) * 16;
  return {
    family: b.family,
    userAgent: b.userAgent,
    platform: b.platform,
    mobile: b.mobile,
    viewport: { width: b.viewport.width - jitter, height: b.viewport.height - jitter },
    acceptLanguage: one(region.languages, random),
    clientIp: `${one(region.prefixes, random)}${octet(random)}.${octet(random)}.${octet(random)}`,
  };
}
