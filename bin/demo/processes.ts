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
  /** SIGTERM, then SIGKILL to its whole process group after graceMs. Resolves with its exit code. */
  stop(graceMs?: number): Promise<number | null>;
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

// One 'exit' listener for all children (one each would trip the max-listeners warning).
const killers = new Set<() => void>();
let exitHooked = false;
function killOnExit(kill: () => void): void {
  if (!exitHooked) process.once('exit', () => killers.forEach((k) => k()));
  exitHooked = true;
  killers.add(kill);
}

export function spawnProgram(opts: SpawnOptions & { command: string }): ManagedProcess {
  mkdirSync(opts.logDir, { recursive: true });
  const logFile = join(opts.logDir, `${opts.name}.log`);
  const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
  // Its own process group: a terminal's Ctrl-C reaches the demo alone, which then stops its
  // programs in order (bin/demo/main.ts). Should the demo die first, they go with it.
  const child = spawn(opts.command, opts.args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const onDemoExit = () => killGroup('SIGKILL');
  killOnExit(onDemoExit);
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
    killers.delete(onDemoExit);
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
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => killGroup('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // Whatever it started (the auditor's browser) goes too.
      killGroup('SIGKILL');
      return exited;
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
