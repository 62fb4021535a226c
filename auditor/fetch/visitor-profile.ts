import type { VisitorSampleRow } from '../../common/db/queries/visitor-samples.js';
import { brandList, type Brand } from './client-hints.js';
import { builtInVisitor, chromiumUserAgent, languageFor, platformOf, regionFor, type Platform } from './visitor-mix.js';

// Who an audit presents itself as. Drawn from the node's own recent visitors as the balancer
// sampled them (issue 15.1): their country and Accept-Language, their browser and platform,
// how they arrived (Sec-Fetch-Site) and whether they come back (conditional requests). A
// Chromium-family visitor is claimed at the version of the Chromium that really renders the
// audit, so the User-Agent, Sec-CH-UA and what the page's scripts see all agree. Pure.

export type Destination = 'document' | 'script' | 'style' | 'image' | 'font' | 'other';
export type Navigation = 'none' | 'same-origin' | 'same-site' | 'cross-site';

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
  /** Chromium family: Sec-CH-UA and navigator.userAgentData brands; null for other browsers. */
  brands: Brand[] | null;
  /** How the visitor reached the page (Sec-Fetch-Site of the navigation). */
  navigation: Navigation;
  /** Visitors reach the site over HTTPS: send what browsers send only there, whatever the audit's own transport. Null: follow the transport. */
  secure: boolean | null;
  /** A returning visitor: conditional requests for what it already has. */
  returning: boolean;
}

/** What the auditor knows of one sampled visitor (common/db/queries/visitor-samples.ts). */
export type SampledVisitor = Pick<VisitorSampleRow, 'path' | 'country' | 'acceptLanguage' | 'userAgent' | 'secFetchSite' | 'conditional' | 'secure'>;

/** The Chromium major version used when no browser tells us its own (HTTP-only audits). */
export const fallbackChromiumMajor = 140;

const navigations: readonly Navigation[] = ['none', 'same-origin', 'same-site', 'cross-site'];
const validLanguage = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*(;q=[01](\.\d{1,3})?)?(\s*,\s*([A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*|\*)(;q=[01](\.\d{1,3})?)?)*$/;

function family(ua: string): VisitorProfile['family'] | null {
  if (/Edg\//.test(ua)) return 'edge';
  if (/Firefox\/\d/.test(ua) && !/Seamonkey/i.test(ua)) return 'firefox';
  if (/Chrome\/\d/.test(ua) && !/OPR\/|SamsungBrowser|CriOS/.test(ua)) return 'chrome';
  if (/Version\/[\d.]+.*Safari\//.test(ua) || /CriOS|FxiOS/.test(ua)) return 'safari';
  return null;
}

const navigatorPlatform: Record<Platform, string> = { windows: 'Win32', mac: 'MacIntel', linux: 'Linux x86_64', android: 'Linux armv8l', ios: 'iPhone' };
const viewports: Record<Platform, Array<{ width: number; height: number }>> = {
  windows: [{ width: 1366, height: 768 }, { width: 1536, height: 864 }, { width: 1920, height: 1080 }],
  mac: [{ width: 1440, height: 900 }, { width: 1512, height: 982 }],
  linux: [{ width: 1920, height: 1080 }, { width: 1366, height: 768 }],
  android: [{ width: 412, height: 915 }, { width: 393, height: 873 }, { width: 360, height: 800 }],
  ios: [{ width: 390, height: 844 }, { width: 430, height: 932 }],
};

const one = <T>(list: readonly T[], random: () => number): T => list[Math.floor(random() * list.length)] ?? (list[0] as T);

/** Arrival when the sample does not say (plain http visitors send no Sec-Fetch-*). */
function guessNavigation(path: string, random: () => number): Navigation {
  const r = random();
  if (path === '/') return r < 0.6 ? 'none' : 'cross-site';
  return r < 0.7 ? 'same-origin' : r < 0.9 ? 'cross-site' : 'none';
}

/** The audit's visitor, modelled on one sampled visitor of the node. Null when the sample is not a browser we can be. */
export function visitorFromSample(s: SampledVisitor, random: () => number, chromiumMajor: number): VisitorProfile | null {
  const ua = (s.userAgent ?? '').slice(0, 400);
  const fam = family(ua);
  if (!fam) return null;
  const platform = platformOf(ua);
  const chromium = fam === 'chrome' || fam === 'edge';
  const userAgent = chromium ? chromiumUserAgent(platform, chromiumMajor, fam === 'edge') : ua;
  const mobile = platform === 'android' || platform === 'ios';
  const language = s.acceptLanguage && s.acceptLanguage.length <= 200 && validLanguage.test(s.acceptLanguage) ? s.acceptLanguage : languageFor(s.country, random);
  const nav = navigations.find((n) => n === s.secFetchSite) ?? guessNavigation(s.path, random);
  return {
    family: fam, userAgent, acceptLanguage: language, platform: navigatorPlatform[platform], mobile,
    viewport: one(viewports[platform], random), clientIp: regionFor(s.country, random),
    brands: chromium ? brandList(chromiumMajor, fam === 'edge' ? 'Microsoft Edge' : 'Google Chrome') : null,
    navigation: nav, secure: sentFromSecureContext(s), returning: s.conditional,
  };
}

/**
 * Browsers send Sec-Fetch-* only to secure origins, so a sample that carries Sec-Fetch-Site came
 * over HTTPS whatever the balancer's own socket says: behind a TLS-terminating proxy (the usual
 * deployment) every request reaches the balancer as plain HTTP.
 */
function sentFromSecureContext(s: SampledVisitor): boolean {
  return s.secure || (s.secFetchSite !== null && navigations.some((n) => n === s.secFetchSite));
}

/**
 * A visitor of this node, its browser and its language each drawn from the node's sampled
 * visitors (so the mix follows its traffic), else the built-in mix. The two are drawn from two
 * samples apart: replaying one visitor's exact pair would only ever present pairs the node has
 * already seen, while a new visitor brings a pair it has not seen as often as its visitors are
 * diverse (the classifier node tells an audit by that alone, bench/classifier).
 */
export function drawVisitor(random: () => number, samples: readonly SampledVisitor[] = [], chromiumMajor = fallbackChromiumMajor): VisitorProfile {
  for (let i = 0; i < 5 && samples.length > 0; i++) {
    const browser = one(samples, random);
    const speaker = one(samples, random);
    const v = visitorFromSample({ ...browser, country: speaker.country, acceptLanguage: speaker.acceptLanguage }, random, chromiumMajor);
    if (v) return v;
  }
  const b = builtInVisitor(random, chromiumMajor);
  const chromium = b.family === 'chrome' || b.family === 'edge';
  return {
    ...b,
    brands: chromium ? brandList(chromiumMajor, b.family === 'edge' ? 'Microsoft Edge' : 'Google Chrome') : null,
    navigation: 'none', secure: null, returning: false,
  };
}
