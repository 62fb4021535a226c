// The brand list a Chromium-based browser of a given major version sends in Sec-CH-UA and shows
// in navigator.userAgentData, as Chromium computes it (components/embedder_support/
// user_agent_utils.cc: a GREASE brand and a permutation, both seeded by the major version).
// Audits claim the version of the Chromium that really renders them, so the header, the page's
// view and the engine agree. Pure.

export interface Brand {
  brand: string;
  version: string;
}

const greaseyChars = [' ', '(', ':', '-', '.', '/', ')', ';', '=', '?', '_'];
const greasedVersions = ['8', '99', '24'];
const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] as const;

/** `brand` is "Google Chrome" or "Microsoft Edge"; null for plain Chromium. */
export function brandList(major: number, brand: string | null): Brand[] {
  const version = String(major);
  const grease: Brand = {
    brand: `Not${greaseyChars[major % greaseyChars.length] ?? ' '}A${greaseyChars[(major + 1) % greaseyChars.length] ?? ' '}Brand`,
    version: greasedVersions[major % greasedVersions.length] ?? '99',
  };
  const chromium: Brand = { brand: 'Chromium', version };
  if (!brand) return major % 2 === 0 ? [grease, chromium] : [chromium, grease];
  const order = orders[major % orders.length] ?? orders[0];
  const out: Brand[] = [grease, grease, grease];
  out[order[0]] = grease;
  out[order[1]] = chromium;
  out[order[2]] = { brand, version };
  return out;
}

export function secChUa(brands: readonly Brand[]): string {
  return brands.map((b) => `"${b.brand}";v="${b.version}"`).join(', ');
}

/** The major version from a browser version string ("HeadlessChrome/156.0.8078.114", "Chromium 156.0…"). */
export function majorOf(version: string): number | null {
  const m = /(\d{2,3})\.\d+\.\d+\.\d+/.exec(version);
  return m ? Number(m[1]) : null;
}
