import { secChUa } from './client-hints.js';
import type { Destination, VisitorProfile } from './visitor-profile.js';

// Request headers exactly as the visitor's browser would send them, in its order: a node that
// fingerprints header sets or their order sees an ordinary browser. Pure.

export interface RequestShape {
  host: string;
  destination: Destination;
  /** https pages get Sec-Fetch-* and client hints (browsers send them to secure origins only). */
  secure: boolean;
  referer?: string;
  /** Validators of a copy the visitor already has (a returning visitor's conditional request). */
  conditional?: { etag?: string; lastModified?: string } | null;
}

function conditionalHeaders(s: RequestShape): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (s.conditional?.etag) out.push(['If-None-Match', s.conditional.etag]);
  if (s.conditional?.lastModified) out.push(['If-Modified-Since', s.conditional.lastModified]);
  return out;
}

const accepts: Record<VisitorProfile['family'], Record<Destination, string>> = {
  chrome: {
    document: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7',
    script: '*/*', style: 'text/css,*/*;q=0.1', image: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', font: '*/*', other: '*/*',
  },
  edge: {
    document: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7',
    script: '*/*', style: 'text/css,*/*;q=0.1', image: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', font: '*/*', other: '*/*',
  },
  firefox: {
    document: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    script: '*/*', style: 'text/css,*/*;q=0.1', image: 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5', font: 'application/font-woff2;q=1.0,application/font-woff;q=0.9,*/*;q=0.8', other: '*/*',
  },
  safari: {
    document: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    script: '*/*', style: 'text/css,*/*;q=0.1', image: 'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5', font: '*/*', other: '*/*',
  },
};

function clientHints(p: VisitorProfile): Array<[string, string]> {
  const brand = secChUa(p.brands ?? []);
  const platform = p.platform.startsWith('Win') ? '"Windows"' : p.platform === 'MacIntel' ? '"macOS"' : p.mobile ? '"Android"' : '"Linux"';
  return [['sec-ch-ua', brand], ['sec-ch-ua-mobile', p.mobile ? '?1' : '?0'], ['sec-ch-ua-platform', platform]];
}

function secFetch(p: VisitorProfile, s: RequestShape): Array<[string, string]> {
  // A navigation says how the visitor arrived: typed or bookmarked (none), a link on the site, or from elsewhere.
  if (s.destination === 'document') return [['Sec-Fetch-Site', p.navigation], ['Sec-Fetch-Mode', 'navigate'], ['Sec-Fetch-User', '?1'], ['Sec-Fetch-Dest', 'document']];
  const mode = s.destination === 'font' ? 'cors' : 'no-cors';
  const dest = s.destination === 'other' ? 'empty' : s.destination;
  return [['Sec-Fetch-Site', 'same-origin'], ['Sec-Fetch-Mode', mode], ['Sec-Fetch-Dest', dest]];
}

function chromium(p: VisitorProfile, s: RequestShape): Array<[string, string]> {
  const doc = s.destination === 'document';
  const h: Array<[string, string]> = [['Host', s.host], ['Connection', 'keep-alive']];
  if (s.secure) h.push(...clientHints(p));
  if (doc) h.push(['Upgrade-Insecure-Requests', '1']);
  h.push(['User-Agent', p.userAgent], ['Accept', accepts[p.family][s.destination]]);
  if (s.secure) h.push(...secFetch(p, s));
  if (s.referer) h.push(['Referer', s.referer]);
  h.push(['Accept-Encoding', s.secure ? 'gzip, deflate, br, zstd' : 'gzip, deflate'], ['Accept-Language', p.acceptLanguage], ...conditionalHeaders(s));
  return h;
}

function firefox(p: VisitorProfile, s: RequestShape): Array<[string, string]> {
  const h: Array<[string, string]> = [
    ['Host', s.host], ['User-Agent', p.userAgent], ['Accept', accepts.firefox[s.destination]],
    ['Accept-Language', p.acceptLanguage], ['Accept-Encoding', s.secure ? 'gzip, deflate, br, zstd' : 'gzip, deflate'],
  ];
  if (s.referer) h.push(['Referer', s.referer]);
  h.push(['Connection', 'keep-alive']);
  if (s.destination === 'document') h.push(['Upgrade-Insecure-Requests', '1']);
  if (s.secure) h.push(...secFetch(p, s));
  h.push(...conditionalHeaders(s), ['Priority', s.destination === 'document' ? 'u=0, i' : s.destination === 'style' ? 'u=2' : 'u=4']);
  return h;
}

function safari(p: VisitorProfile, s: RequestShape): Array<[string, string]> {
  const h: Array<[string, string]> = [['Host', s.host]];
  if (s.secure) h.push(...secFetch(p, s).filter(([k]) => k !== 'Sec-Fetch-User'));
  h.push(['Accept', accepts.safari[s.destination]], ['Accept-Language', p.acceptLanguage]);
  if (s.destination === 'document') h.push(['Upgrade-Insecure-Requests', '1']);
  h.push(['User-Agent', p.userAgent]);
  if (s.referer) h.push(['Referer', s.referer]);
  h.push(...conditionalHeaders(s), ['Accept-Encoding', 'gzip, deflate'], ['Connection', 'keep-alive']);
  return h;
}

export function browserHeaders(p: VisitorProfile, s: RequestShape): Array<[string, string]> {
  if (p.family === 'firefox') return firefox(p, s);
  if (p.family === 'safari') return safari(p, s);
  return chromium(p, s);
}
