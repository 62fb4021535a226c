import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createPool, type Pool } from '../../common/db/pool.js';
import { applyNodeAction } from '../../common/db/queries/admin-actions.js';
import { insertSite } from '../../common/db/queries/sites.js';
import { createJoinToken } from '../../common/db/queries/tokens.js';
import type { Logger } from '../../common/log.js';
import { allocatePorts } from '../../bin/demo/ports.js';
import { startRogueProxy, type RogueOptions } from '../../bin/demo/rogue-proxy.js';
import { samplePrivateRoutes, startSampleOrigin, type SampleOrigin } from '../../test/support/origin/index.js';
import { startRestartablePostgres, type RestartablePostgres } from './postgres.js';
import { balancerHandle, nodeHandle, type BalancerHandle, type NodeHandle } from './processes.js';

// The soak's system: real PostgreSQL (restartable), the sample origin, real balancers on one
// database, real volunteer nodes, one of them behind a doctoring proxy that starts honest.

export const SOAK_SITE_HOST = 'soak.localhost';

export interface ClusterOptions {
  dir: string;
  log: Logger;
  balancers: number;
  honestNodes: number;
  /** Add a node behind the doctoring proxy (honest until its options say otherwise); default true. */
  turncoat?: boolean;
  /** Extra balancer flags (e.g. shorter health interval or deadline). */
  balancerArgs: string[];
  startTimeoutMs: number;
}

export interface Cluster {
  pg: RestartablePostgres;
  /** The soak's own pool (admin actions); it survives PostgreSQL restarts. */
  pool: Pool;
  origin: SampleOrigin;
  balancers: BalancerHandle[];
  nodes: NodeHandle[];
  /** The node that turns rogue: its proxy's options may be changed while running. */
  turncoat: { node: NodeHandle; rogue: RogueOptions } | null;
  close(): Promise<void>;
}

async function startAll(tasks: (() => Promise<unknown>)[]): Promise<void> {
  const results = await Promise.allSettled(tasks.map((t) => t()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

interface NodesSpec {
  count: number;
  withTurncoat: boolean;
  /** The turncoat's proxy: its nodePort is filled in here. */
  rogue: RogueOptions;
  take: () => number;
  controlUrl: string;
  token: string;
  dir: string;
  logDir: string;
  startTimeoutMs: number;
}

/** The nodes' handles; the last one is the turncoat (reached through the proxy) when there is one. */
function defineNodes(o: NodesSpec): NodeHandle[] {
  return Array.from({ length: o.count }, (_, i) => {
    const [listenPort, statusPort] = [o.take(), o.take()];
    const turncoat = o.withTurncoat && i === o.count - 1;
    if (turncoat) o.rogue.nodePort = listenPort;
    return nodeHandle({
      name: turncoat ? 'node-turncoat' : `node-${i + 1}`, balancerControlUrl: o.controlUrl, token: o.token, listenPort, statusPort,
      publicUrl: `http://127.0.0.1:${turncoat ? o.rogue.listenPort : listenPort}`, location: `${50 + i},${8 + i}`,
      dataRoot: join(o.dir, 'nodes'), logDir: o.logDir, startTimeoutMs: o.startTimeoutMs,
    });
  });
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const withTurncoat = opts.turncoat ?? true;
  const nodeCount = opts.honestNodes + (withTurncoat ? 1 : 0);
  const ports = await allocatePorts(2 + 2 * opts.balancers + 3 * nodeCount);
  const take = (): number => ports.shift() ?? 0;
  const pgPort = take();
  const pg = await startRestartablePostgres({ dir: join(opts.dir, 'pg'), port: pgPort, name: 'verity_soak', log: opts.log });
  const pool = createPool({ url: pg.url, log: opts.log, max: 4 });
  const closers: (() => Promise<unknown>)[] = [() => pg.close(), () => pool.end()];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const origin = await startSampleOrigin({ port: take() });
    closers.push(() => origin.close());
    const site = await insertSite(pool, { host: SOAK_SITE_HOST, origin: origin.url, privateRoutes: samplePrivateRoutes, dynamicPolicy: 'sampled' });
    const { token } = await createJoinToken(pool, { siteId: site.id, uses: nodeCount, ttlMs: 3_600_000, createdBy: 'soak' });
    const logDir = join(opts.dir, 'logs');
    const env = {
      DATABASE_URL: pg.url, VERITY_ADMIN_TOKEN: randomBytes(24).toString('base64url'), VERITY_AUDIT_SECRET: randomBytes(32).toString('base64url'),
      VERITY_ALLOW_PRIVATE_NODE_URLS: '1', VERITY_LOG_LEVEL: 'warn', VERITY_CONFIG: undefined,
    };
    const balancers = Array.from({ length: opts.balancers }, (_, i) => balancerHandle({
      name: `balancer-${i + 1}`, publicPort: take(), controlPort: take(), env, extraArgs: opts.balancerArgs, logDir, startTimeoutMs: opts.startTimeoutMs,
    }));
    closers.push(() => Promise.all(balancers.map((b) => b.terminate())));
    // Nodes enroll at the last balancer: the first is the one the soak restarts.
    const home = balancers[balancers.length - 1] as BalancerHandle;
    const rogue: RogueOptions = { listenPort: take(), nodePort: 0, tamperRate: 0, staticTamperRate: 0 };
    const nodes = defineNodes({ count: nodeCount, withTurncoat, rogue, take, controlUrl: home.controlUrl, token, dir: opts.dir, logDir, startTimeoutMs: opts.startTimeoutMs });
    closers.push(() => Promise.all(nodes.map((n) => n.kill('SIGTERM'))));
    if (withTurncoat) {
      const proxy: Server = await startRogueProxy(rogue);
      closers.push(() => new Promise((r) => {
        proxy.closeAllConnections();
        proxy.close(r);
      }));
    }
    // The nodes start as soon as their balancer answers (earlier, they would back off for seconds);
    // the other balancers start meanwhile.
    await startAll([...balancers.filter((b) => b !== home).map((b) => () => b.start()), async () => {
      await home.start();
      await startAll(nodes.map((n) => () => n.start()));
    }]);
    // An admin vouches for the new nodes so they carry real traffic (probation caps it at a few percent).
    for (const n of nodes) await applyNodeAction(pool, n.nodeId, 'reinstate', 'soak: vouched for by the operator', 'soak');
    return { pg, pool, origin, balancers, nodes, turncoat: withTurncoat ? { node: nodes[nodeCount - 1] as NodeHandle, rogue } : null, close };
  } catch (err) {
    await close();
    throw err;
  }
}
