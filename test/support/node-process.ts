import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import type { Pool } from '../../common/db/pool.js';
import { startNodeControlPlane, type TestControlPlane } from './node-control-plane.js';
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
    // Plain HTTP unless a test asks for TLS (env VERITY_NODE_PLAIN_HTTP: '').
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', VERITY_LOG_LEVEL: 'warn', VERITY_NODE_PLAIN_HTTP: '1', ...env },
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

/**
 * Hooks for test files that run `verity node` processes against a test control plane: every
 * process, control plane and data directory is cleaned up after each test / the file.
 */
export function useNodeProcesses(db: { readonly pool: Pool }) {
  const dirs: string[] = [];
  const procs: NodeProcess[] = [];
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
    await Promise.all(closers.splice(0).map((c) => c()));
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  /** A data directory removed after the file. */
  const dataDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'verity-node-data-'));
    dirs.push(dir);
    return dir;
  };
  return {
    /** Stops this process after the test. */
    track(p: NodeProcess): NodeProcess {
      procs.push(p);
      return p;
    },
    /** Runs this after the test. */
    cleanup(fn: () => Promise<void>): void {
      closers.push(fn);
    },
    dataDir,
    start(balancer: string, token: string | null): NodeProcess {
      const dir = dataDir();
      const args = ['--balancer', balancer, '--listen', '127.0.0.1:0', '--status-listen', '127.0.0.1:0', '--data-dir', dir];
      if (token) args.push('--token', token);
      const p = spawnNode(args);
      procs.push(p);
      return p;
    },
    async controlPlane(port?: number): Promise<TestControlPlane> {
      const cp = await startNodeControlPlane({ pool: db.pool, heartbeatIntervalMs: 300, ...(port ? { port } : {}) });
      closers.push(() => cp.close());
      return cp;
    },
  };
}
