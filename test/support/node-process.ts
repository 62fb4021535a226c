import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The real `verity node` as a child process (bin/verity), for tests of what volunteers run.

const VERITY_BIN = fileURLToPath(new URL('../../bin/verity', import.meta.url));

export interface NodeProcess {
  child: ChildProcess;
  /** The arguments after `verity node`, to start the same node again. */
  args: string[];
  stdout(): string;
  stderr(): string;
  /** Resolves with the line that matched, or rejects when the process exits first / at the timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  ready(timeoutMs?: number): Promise<{ nodeId: string; url: string; statusUrl: string }>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnNode(args: string[], env: Record<string, string> = {}): NodeProcess {
  const child = spawn(process.execPath, [VERITY_BIN, 'node', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', VERITY_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = (pattern: RegExp, timeoutMs = 30_000) => new Promise<RegExpMatchArray>((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(out);
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${pattern}; stdout:\n${out}\nstderr:\n${err}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      listeners.delete(check);
    };
    listeners.add(check);
    void exited.then((code) => {
      if (!listeners.has(check)) return;
      check();
      if (!listeners.has(check)) return;
      cleanup();
      reject(new Error(`verity node exited (${code}) before ${pattern}; stdout:\n${out}\nstderr:\n${err}`));
    });
    check();
  });
  return {
    child,
    args,
    stdout: () => out,
    stderr: () => err,
    waitFor,
    exited,
    async ready(timeoutMs) {
      const m = await waitFor(/verity node ready: node ([0-9a-f]{32}) serving (\S+), status page (\S+)/, timeoutMs);
      return { nodeId: m[1] ?? '', url: (m[2] ?? '').replace(/,$/, ''), statusUrl: m[3] ?? '' };
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
