import type { VisitorProfile } from '../fetch/visitor-profile.js';

// Runs in every page before its own scripts. Two jobs: hide the tells of an automated browser
// (a node's script could beacon them to the node) and defuse hostile pages (popups, dialogs).
// The function is serialized into the page: it must be self-contained.

export interface StealthSettings {
  languages: string[];
  platform: string;
  chromium: boolean;
  mobile: boolean;
}

export function stealthSettings(p: VisitorProfile): StealthSettings {
  const languages = p.acceptLanguage.split(',').map((l) => l.split(';')[0]?.trim() ?? '').filter(Boolean);
  return { languages, platform: p.platform, chromium: p.family === 'chrome' || p.family === 'edge', mobile: p.mobile };
}

export function stealthScript(s: StealthSettings): void {
  const define = (obj: object, prop: string, value: unknown) => {
    try {
      Object.defineProperty(obj, prop, { get: () => value, configurable: true });
    } catch {
      // Some properties are locked in some frames: leave them.
    }
  };
  define(Navigator.prototype, 'webdriver', false);
  define(Navigator.prototype, 'languages', Object.freeze([...s.languages]));
  define(Navigator.prototype, 'language', s.languages[0] ?? 'en-US');
  define(Navigator.prototype, 'platform', s.platform);
  define(Navigator.prototype, 'hardwareConcurrency', 8);
  define(Navigator.prototype, 'deviceMemory', 8);
  define(Navigator.prototype, 'maxTouchPoints', s.mobile ? 5 : 0);
  if (!s.chromium) define(Navigator.prototype, 'userAgentData', undefined);
  const w = window as unknown as Record<string, unknown>;
  if (s.chromium && !w.chrome) w.chrome = { runtime: {}, app: { isInstalled: false }, csi: () => ({}), loadTimes: () => ({}) };
  // Hostile pages: no popups, no blocking dialogs.
  window.open = () => null;
  window.alert = () => undefined;
  window.confirm = () => false;
  window.prompt = () => null;
  window.print = () => undefined;
}
