import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer';
import { describeError, isVerityError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { withDeadline } from '../deadline.js';
import { chromiumArgs } from './executable.js';
import { renderPage, type RenderJob, type RenderOutput } from './render.js';
import { probeSandbox } from './sandbox-probe.js';

// The auditor's browser: launched lazily, recycled every `recycleEvery` pages (bounded memory),
// killed and replaced when a page hangs it or it crashes. Renders never throw: a failure is a
// result, so the audit becomes inconclusive and the worker goes on.

export type RenderResult = { ok: true; output: RenderOutput } | { ok: false; error: 'timeout' | 'crashed' | 'failed'; message: string };

export interface RendererOptions {
  executablePath: string;
  recycleEvery: number;
  launchTimeoutMs: number;
  log: Logger;
  /** Run Chromium with its sandbox (default). false only when the operator allowed it (--allow-no-sandbox). */
  sandbox?: boolean;
}

export interface RendererStats {
  launches: number;
  renders: number;
  kills: number;
  pid: number | null;
}

export interface Renderer {
  render(job: RenderJob): Promise<RenderResult>;
  stats(): RendererStats;
  /** Kills the current browser (tests use it to crash Chromium mid-audit). */
  kill(): void;
  /** Starts the browser if needed and reports whether its sandbox is on. */
  sandbox(): Promise<{ on: boolean; detail: string; version: string }>;
  close(): Promise<void>;
}

// Hardening on top of the shared flags: no automation tell, and a dead-end proxy so that any
// request that escapes interception (WebSockets, workers) cannot reach anything, loopback
// included. No name is ever resolved (every host maps to NOTFOUND: DNS prefetch and preconnect
// ask nobody), and WebRTC may use no UDP except through the (dead) proxy, so no STUN leaves.
export const extraArgs = [
  '--disable-blink-features=AutomationControlled', '--proxy-server=http://127.0.0.1:9', '--proxy-bypass-list=<-loopback>',
  '--host-resolver-rules=MAP * ~NOTFOUND', '--dns-prefetch-disable',
  '--force-webrtc-ip-handling-policy=disable_non_proxied_udp', '--webrtc-ip-handling-policy=disable_non_proxied_udp', '--enforce-webrtc-ip-permission-check',
  '--js-flags=--max-old-space-size=256', '--disable-renderer-backgrounding',
];

/** Chromium may still be writing its profile as it dies: retry, then give up quietly. */
function removeDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
  } catch {
    // A leftover temp dir is not worth failing an audit over.
  }
}

interface Slot {
  browser: Browser;
  dir: string;
  used: number;
  inFlight: number;
  retired: boolean;
  disposed: boolean;
}

export function createRenderer(opts: RendererOptions): Renderer {
  const stats: RendererStats = { launches: 0, renders: 0, kills: 0, pid: null };
  let current: Promise<Slot> | null = null;

  const dispose = (slot: Slot, kill: boolean) => {
    if (slot.disposed) return;
    slot.disposed = true;
    if (kill) slot.browser.process()?.kill('SIGKILL');
    // A wedged browser may never answer close(): give it a few seconds, then SIGKILL.
    const done = kill ? Promise.resolve() : withDeadline(slot.browser.close(), 5_000, 'AUD_ERR_BROWSER_CRASHED', 'closing the browser');
    void done.catch(() => slot.browser.process()?.kill('SIGKILL')).finally(() => removeDir(slot.dir));
  };

  const launch = async (): Promise<Slot> => {
    const dir = mkdtempSync(join(tmpdir(), 'verity-auditor-chrome-'));
    try {
      const browser = await withDeadline(
        // Signals are the program's to handle (finish audits, then close); the browser still dies with the process.
        puppeteer.launch({ executablePath: opts.executablePath, headless: true, args: [...chromiumArgs, ...extraArgs, ...(opts.sandbox === false ? ['--no-sandbox'] : [])], userDataDir: dir, protocolTimeout: opts.launchTimeoutMs * 2, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false }),
        opts.launchTimeoutMs, 'AUD_ERR_BROWSER_CRASHED', 'launching the browser',
      );
      stats.launches++;
      stats.pid = browser.process()?.pid ?? null;
      const slot: Slot = { browser, dir, used: 0, inFlight: 0, retired: false, disposed: false };
      browser.on('disconnected', () => {
        slot.retired = true;
      });
      return slot;
    } catch (err) {
      removeDir(dir);
      throw err;
    }
  };

  const acquire = async (): Promise<Slot> => {
    if (current) {
      const slot = await current.catch(() => null);
      if (slot && !slot.retired && slot.browser.connected) return slot;
      current = null;
    }
    current = launch();
    current.catch(() => {
      current = null;
    });
    return current;
  };

  const retire = (slot: Slot, kill: boolean) => {
    if (!slot.retired) slot.retired = true;
    if (kill) {
      stats.kills++;
      dispose(slot, true);
    } else if (slot.inFlight === 0) dispose(slot, false);
  };

  return {
    async render(job) {
      let slot: Slot;
      try {
        slot = await acquire();
      } catch (err) {
        return { ok: false, error: 'crashed', message: `browser did not start: ${describeError(err)}` };
      }
      slot.used++;
      slot.inFlight++;
      stats.renders++;
      if (slot.used >= opts.recycleEvery) {
        slot.retired = true;
        current = null;
      }
      try {
        return { ok: true, output: await renderPage(slot.browser, job) };
      } catch (err) {
        const timeout = isVerityError(err, 'AUD_ERR_RENDER_TIMEOUT');
        const crashed = !slot.browser.connected;
        opts.log.warn({ err: describeError(err), timeout, crashed }, 'render failed; replacing the browser');
        // A page that hung the renderer may hang the whole browser: kill it, start fresh next time.
        if (current && !slot.retired) current = null;
        retire(slot, true);
        return { ok: false, error: timeout ? 'timeout' : crashed ? 'crashed' : 'failed', message: describeError(err) };
      } finally {
        slot.inFlight--;
        if (slot.retired && slot.inFlight === 0) dispose(slot, !slot.browser.connected);
      }
    },
    stats: () => ({ ...stats }),
    async sandbox() {
      const slot = await acquire();
      return probeSandbox(slot.browser, opts.launchTimeoutMs);
    },
    kill() {
      void current?.then((slot) => retire(slot, true)).catch(() => undefined);
    },
    async close() {
      const slot = await current?.catch(() => null);
      current = null;
      if (slot && !slot.disposed) {
        slot.disposed = true;
        await slot.browser.close().catch(() => slot.browser.process()?.kill('SIGKILL'));
        removeDir(slot.dir);
      }
    },
  };
}
