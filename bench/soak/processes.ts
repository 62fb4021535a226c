import { join } from 'node:path';
import { spawnVerity, waitForHttp, type ManagedProcess } from '../../bin/demo/processes.js';

// Restartable handles on real `verity balancer` and `verity node` processes: the same ports,
// flags and data directory on every start, so a restarted program is the same program.

export interface BalancerHandle {
  readonly name: string;
  readonly publicUrl: string;
  readonly controlUrl: string;
  /** The running process, or null while stopped. */
  readonly proc: ManagedProcess | null;
  start(): Promise<void>;
  /** SIGTERM (graceful: in-flight requests finish); resolves with the exit code. */
  terminate(): Promise<number | null>;
}

export interface BalancerSpec {
  name: string;
  publicPort: number;
  controlPort: number;
  env: Record<string, string | undefined>;
  extraArgs: string[];
  logDir: string;
  startTimeoutMs: number;
}

export function balancerHandle(spec: BalancerSpec): BalancerHandle {
  let proc: ManagedProcess | null = null;
  const controlUrl = `http://127.0.0.1:${spec.controlPort}`;
  return {
    name: spec.name,
    publicUrl: `http://127.0.0.1:${spec.publicPort}`,
    controlUrl,
    get proc() {
      return proc;
    },
    async start() {
      const args = ['balancer', '--listen', `127.0.0.1:${spec.publicPort}`, '--control-listen', `127.0.0.1:${spec.controlPort}`, ...spec.extraArgs];
      const p = spawnVerity({ name: spec.name, args, env: spec.env, logDir: spec.logDir });
      proc = p;
      void p.exited.then(() => {
        if (proc === p) proc = null;
      });
      await p.waitForLine(/^balancer: http/, spec.startTimeoutMs);
      await waitForHttp(`${controlUrl}/healthz`, spec.startTimeoutMs, p);
    },
    async terminate() {
      const p = proc;
      if (!p) return null;
      await p.stop(60_000);
      return p.exited;
    },
  };
}

export interface NodeHandle {
  readonly name: string;
  /** Known after the first start. */
  readonly nodeId: string;
  readonly proc: ManagedProcess | null;
  start(): Promise<string>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface NodeSpec {
  name: string;
  balancerControlUrl: string;
  token: string;
  listenPort: number;
  statusPort: number;
  /** Where the balancer should send requests (the node itself, or a proxy in front of it). */
  publicUrl: string;
  location: string;
  dataRoot: string;
  logDir: string;
  startTimeoutMs: number;
}

export function nodeHandle(spec: NodeSpec): NodeHandle {
  let proc: ManagedProcess | null = null;
  let nodeId = '';
  return {
    name: spec.name,
    get nodeId() {
      return nodeId;
    },
    get proc() {
      return proc;
    },
    async start() {
      const args = ['node', '--balancer', spec.balancerControlUrl, '--token', spec.token, '--listen', `127.0.0.1:${spec.listenPort}`,
        '--public-url', spec.publicUrl, '--status-listen', `127.0.0.1:${spec.statusPort}`, '--location', spec.location,
        '--name', spec.name, '--data-dir', join(spec.dataRoot, spec.name)];
      const p = spawnVerity({ name: spec.name, args, env: { VERITY_LOG_LEVEL: 'warn', VERITY_CONFIG: undefined }, logDir: spec.logDir });
      proc = p;
      void p.exited.then(() => {
        if (proc === p) proc = null;
      });
      const line = await p.waitForLine(/verity node ready: node [0-9a-f]{32}/, spec.startTimeoutMs);
      nodeId = /node ([0-9a-f]{32})/.exec(line)?.[1] ?? '';
      return nodeId;
    },
    async kill(signal) {
      const p = proc;
      if (!p) return;
      p.child.kill(signal);
      await p.exited;
    },
  };
}
