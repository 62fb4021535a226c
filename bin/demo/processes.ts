import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VerityError } from '../../common/errors.js';

const verityBin = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'verity');

/** A child program of the demo: its output goes to a log file, its lines can be awaited. */
export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves with the first stdout/stderr line matching `pattern`; rejects on exit or timeout. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** SIGTERM, then SIGKILL after graceMs. Resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: Promise<number | null>;
}

export interface SpawnOptions {
  name: string;
  args: string[];
  env: Record<string, string | undefined>;
  logDir: string;
}

export function spawnVerity(opts: SpawnOptions): ManagedProcess {
  return spawnProgram({ ...opts, command: process.execPath, args: [verityBin, ...opts.args] });
}

export function spawnProgram(opts: SpawnOptions & { command: string }): ManagedProcess {
  mkdirSync(opts.logDir, { recursive: true });
  const logFile = join(opts.logDir, `${opts.name}.log`);
  const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(opts.command, opts.args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const watchers = new Set<{ pattern: RegExp; done: (line: string) => void }>();
  let pending = '';
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) for (const w of watchers) if (w.pattern.test(line)) w.done(line);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => {
    log.end();
    r(code);
  }));
  return {
    name: opts.name,
    child,
    logFile,
    exited,
    waitForLine(pattern, timeoutMs) {
      return new Promise((resolveLine, reject) => {
        const timer = setTimeout(() => finish(new VerityError('DEMO_ERR_START', `${opts.name}: no line matching ${pattern} within ${timeoutMs} ms (see ${logFile})`)), timeoutMs);
        const w = { pattern, done: (line: string) => finish(null, line) };
        const onExit = (code: number | null) => finish(new VerityError('DEMO_ERR_START', `${opts.name} exited with code ${code} (see ${logFile})`));
        function finish(err: Error | null, line = '') {
          clearTimeout(timer);
          watchers.delete(w);
          child.off('exit', onExit);
          if (err) reject(err);
          else resolveLine(line);
        }
        watchers.add(w);
        child.once('exit', onExit);
      });
    },
    async stop(graceMs = 8000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `url` until it answers 2xx; rejects after timeoutMs or as soon as `proc` exits. */
export async function waitForHttp(url: string, timeoutMs: number, proc?: ManagedProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc?.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new VerityError('DEMO_ERR_START', `${proc?.name} exited before ${url} answered (see ${proc?.logFile})`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new VerityError('DEMO_ERR_START', `${url} did not answer within ${timeoutMs} ms${proc ? ` (see ${proc.logFile})` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
