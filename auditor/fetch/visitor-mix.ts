// The built-in visitor mix (used until the balancer has sampled a node's real visitors) and the
// tables that turn a sampled visitor into a profile: platform from the user agent, a matching
// Accept-Language for a country, and a plausible public address of that country's region. Pure.

export type Platform = 'windows' | 'mac' | 'linux' | 'android' | 'ios';

export function platformOf(ua: string): Platform {
  if (/iPhone|iPad|iPod/.test(ua)) return 'ios';
  if (/Android/.test(ua)) return 'android';
  if (/Windows/.test(ua)) return 'windows';
  if (/Macintosh|Mac OS X/.test(ua)) return 'mac';
  return 'linux';
}

/** Chrome's reduced user agent at a major version (the minor parts are always 0.0.0). */
export function chromiumUserAgent(platform: Platform, major: number, edge: boolean): string {
  const os = { windows: 'Windows NT 10.0; Win64; x64', mac: 'Macintosh; Intel Mac OS X 10_15_7', linux: 'X11; Linux x86_64', android: 'Linux; Android 10; K', ios: 'Linux; Android 10; K' }[platform];
  const mobile = platform === 'android' || platform === 'ios' ? 'Mobile ' : '';
  return `Mozilla/5.0 (${os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 ${mobile}Safari/537.36${edge ? ` Edg/${major}.0.0.0` : ''}`;
}

// Language and a plausible public address block per region (weights ≈ traffic share).
const regions: Array<{ weight: number; countries: string[]; languages: string[]; prefixes: string[] }> = [
  { weight: 30, countries: ['US', 'CA'], languages: ['en-US,en;q=0.9', 'en-US,en;q=0.9,es;q=0.8'], prefixes: ['73.', '98.', '24.', '174.'] },
  { weight: 12, countries: ['GB', 'IE', 'AU', 'NZ'], languages: ['en-GB,en;q=0.9', 'en-GB,en-US;q=0.9,en;q=0.8'], prefixes: ['81.', '86.', '90.'] },
  { weight: 18, countries: ['DE', 'AT', 'CH'], languages: ['de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7', 'de,en-US;q=0.7,en;q=0.3'], prefixes: ['84.', '91.', '93.'] },
  { weight: 10, countries: ['FR', 'BE', 'LU'], languages: ['fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7', 'fr,fr-FR;q=0.8,en-US;q=0.5,en;q=0.3'], prefixes: ['82.', '88.', '109.'] },
  { weight: 8, countries: ['ES', 'MX', 'AR', 'CO'], languages: ['es-ES,es;q=0.9', 'es-ES,es;q=0.9,en;q=0.8'], prefixes: ['79.', '83.'] },
  { weight: 8, countries: ['BR', 'PT'], languages: ['pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7'], prefixes: ['177.', '189.'] },
  { weight: 7, countries: ['JP'], languages: ['ja,en-US;q=0.9,en;q=0.8'], prefixes: ['126.', '153.'] },
  { weight: 7, countries: ['IN'], languages: ['hi-IN,hi;q=0.9,en-US;q=0.8,en;q=0.7', 'en-IN,en;q=0.9'], prefixes: ['49.', '106.'] },
  { weight: 3, countries: ['NL'], languages: ['nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7'], prefixes: ['77.', '145.'] },
  { weight: 3, countries: ['IT'], languages: ['it-IT,it;q=0.9,en-US;q=0.8,en;q=0.7'], prefixes: ['79.', '151.'] },
  { weight: 3, countries: ['PL'], languages: ['pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7'], prefixes: ['83.', '89.'] },
];

interface BuiltIn {
  family: 'chrome' | 'firefox' | 'safari' | 'edge';
  platform: Platform;
  weight: number;
  /** Non-Chromium browsers: their own current user agent. */
  userAgent?: string;
}

const browsers: BuiltIn[] = [
  { family: 'chrome', platform: 'windows', weight: 30 },
  { family: 'chrome', platform: 'mac', weight: 12 },
  { family: 'chrome', platform: 'android', weight: 20 },
  { family: 'edge', platform: 'windows', weight: 6 },
  { family: 'firefox', platform: 'windows', weight: 8, userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0' },
  { family: 'firefox', platform: 'linux', weight: 3, userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0' },
  { family: 'safari', platform: 'mac', weight: 9, userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15' },
  { family: 'safari', platform: 'ios', weight: 12, userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1' },
];

function pick<T extends { weight: number }>(items: readonly T[], random: () => number): T {
  const total = items.reduce((s, i) => s + i.weight, 0);
  let r = random() * total;
  for (const item of items) {
    r -= item.weight;
    if (r < 0) return item;
  }
  return items[items.length - 1] as T;
}

const octet = (random: () => number) => 1 + Math.floor(random() * 253);
const one = <T>(list: readonly T[], random: () => number): T => list[Math.floor(random() * list.length)] ?? (list[0] as T);

function regionOf(country: string | null, random: () => number) {
  return regions.find((r) => country !== null && r.countries.includes(country.toUpperCase())) ?? pick(regions, random);
}

/** An Accept-Language a visitor from this country plausibly sends. */
export function languageFor(country: string | null, random: () => number): string {
  return one(regionOf(country, random).languages, random);
}

/** A plausible public address in this country's region (the pin's claimed visitor address: geo only). */
export function regionFor(country: string | null, random: () => number): string {
  return `${one(regionOf(country, random).prefixes, random)}${octet(random)}.${octet(random)}.${octet(random)}`;
}

const navigatorPlatform: Record<Platform, string> = { windows: 'Win32', mac: 'MacIntel', linux: 'Linux x86_64', android: 'Linux armv8l', ios: 'iPhone' };
const baseViewport: Record<Platform, { width: number; height: number }> = {
  windows: { width: 1366, height: 768 }, mac: { width: 1440, height: 900 }, linux: { width: 1920, height: 1080 }, android: { width: 412, height: 915 }, ios: { width: 390, height: 844 },
};

export function builtInVisitor(random: () => number, chromiumMajor: number) {
  const b = pick(browsers, random);
  const region = pick(regions, random);
  const mobile = b.platform === 'android' || b.platform === 'ios';
  const jitter = mobile ? 0 : Math.floor(random() * 3) * 16;
  const v = baseViewport[b.platform];
  return {
    family: b.family,
    userAgent: b.userAgent ?? chromiumUserAgent(b.platform, chromiumMajor, b.family === 'edge'),
    platform: navigatorPlatform[b.platform],
    mobile,
    viewport: { width: v.width - jitter, height: v.height - jitter },
    acceptLanguage: one(region.languages, random),
    clientIp: `${one(region.prefixes, random)}${octet(random)}.${octet(random)}.${octet(random)}`,
  };
}
