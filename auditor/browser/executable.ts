import { accessSync, constants } from 'node:fs';

export const systemBrowserPaths = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The browser, resolved as the README says: PUPPETEER_EXECUTABLE_PATH, else puppeteer's own
 * download (none here: installs skip it), else the system Chromium. null → no browser.
 */
export async function resolveBrowserExecutable(env: Readonly<Record<string, string | undefined>> = process.env): Promise<string | null> {
  const explicit = env.PUPPETEER_EXECUTABLE_PATH;
  if (explicit) return isExecutable(explicit) ? explicit : null;
  try {
    const puppeteer = (await import('puppeteer')).default;
    const downloaded = puppeteer.executablePath();
    if (downloaded && isExecutable(downloaded)) return downloaded;
  } catch {
    // No downloaded browser: fall through to the system ones.
  }
  return systemBrowserPaths.find(isExecutable) ?? null;
}

/** Flags for a browser that renders untrusted pages on a machine with no internet. */
export const chromiumArgs = [
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
  '--disable-default-apps',
  '--disable-extensions',
  '--mute-audio',
];
