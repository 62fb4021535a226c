import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { Browser } from 'puppeteer';
import { withDeadline } from '../deadline.js';

// Is Chromium's sandbox on? Two independent signs, both required: Chromium's own chrome://sandbox
// page says so, and every renderer process of this browser runs under a seccomp-BPF filter in a
// PID namespace of its own (read from /proc).

/** Every process below `root` (from /proc). */
export function descendantPids(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      parent.set(Number(d), Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1] ?? 0));
    } catch {
      // gone meanwhile
    }
  }
  const descends = (pid: number): boolean => pid === root || (pid > 1 && descends(parent.get(pid) ?? 0));
  return [...parent.keys()].filter((pid) => pid !== root && descends(pid));
}

function rendererProcesses(browserPid: number): number[] {
  return descendantPids(browserPid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer');
    } catch {
      return false;
    }
  });
}

function processSandboxed(pid: number, browserPidNs: string): boolean {
  try {
    const seccomp = /Seccomp:\s+(\d)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return seccomp === '2' && readlinkSync(`/proc/${pid}/ns/pid`) !== browserPidNs;
  } catch {
    // A process in another user namespace may hide its namespaces: seccomp alone then.
    return /Seccomp:\s+2/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  }
}

export async function probeSandbox(browser: Browser, timeoutMs: number): Promise<{ on: boolean; detail: string; version: string }> {
  const page = await withDeadline(browser.newPage(), timeoutMs, 'AUD_ERR_RENDER_TIMEOUT', 'opening the sandbox page');
  try {
    await withDeadline(page.goto('chrome://sandbox'), timeoutMs, 'AUD_ERR_RENDER_TIMEOUT', 'loading chrome://sandbox');
    const text = await withDeadline(page.evaluate(() => document.body.innerText), timeoutMs, 'AUD_ERR_RENDER_TIMEOUT', 'reading chrome://sandbox');
    const says = /adequately sandboxed/i.test(text);
    const pid = browser.process()?.pid ?? 0;
    const renderers = pid ? rendererProcesses(pid) : [];
    const ns = pid ? readlinkSync(`/proc/${pid}/ns/pid`) : '';
    const confined = renderers.length > 0 && renderers.every((r) => processSandboxed(r, ns));
    const layers = text.split('\n').filter((l) => /namespace|seccomp/i.test(l)).map((l) => l.replace(/\s+/g, ' ').trim()).join('; ');
    return {
      version: await browser.version(),
      on: says && confined,
      detail: `chrome://sandbox: ${says ? 'adequately sandboxed' : 'NOT sandboxed'} (${layers || 'no layers listed'}); ${renderers.length} renderer process(es) ${confined ? 'under seccomp-BPF in their own PID namespace' : 'NOT confined'}`,
    };
  } finally {
    await page.close().catch(() => undefined);
  }
}
