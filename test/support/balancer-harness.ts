import { randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { buildBalancer, type Balancer, type BalancerConfig, type BalancerDeps } from '../../balancer/app.js';
import { balancerProgram } from '../../balancer/config.js';
import type { ControlPlugin } from '../../balancer/control/types.js';
import { loadConfig } from '../../common/config/options.js';
import { createPool, type Pool, type Queryable } from '../../common/db/pool.js';
import { getOrCreateSetting } from '../../common/db/queries/settings.js';
import { silentLogger, type Logger } from '../../common/log.js';
import { NODE_REQUEST_SECRET_SETTING } from '../../common/protocol/node-request-auth.js';

// A real balancer, in-process, against a test database: public and control plane on free
// loopback ports. Reused by node, auditor and dashboard tests.

export interface StartBalancerOptions {
  /** The database: a pool (not closed by us) or a URL (we open and close our own pool). */
  pool?: Pool;
  url?: string;
  /** Overrides of the balancer's configuration (as after parsing: durations in ms). */
  config?: Partial<BalancerConfig>;
  /** Overrides of the dependencies (geo, now, random, background, serverLimits, outlier…). */
  deps?: Partial<BalancerDeps>;
  plugins?: ControlPlugin[];
  auditSecret?: string;
  adminToken?: string;
  log?: Logger;
}

export interface StartedBalancer {
  publicUrl: string;
  /** The HTTPS port (config.tlsListen), or null. */
  tlsUrl: string | null;
  controlUrl: string;
  auditSecret: string;
  adminToken: string;
  balancer: Balancer;
  close(): Promise<void>;
}

export const testAuditSecret = 'test-audit-secret-0123456789abcdef';
export const testAdminToken = 'test-admin-token-0123456789abcdef';

export function balancerTestConfig(overrides: Partial<BalancerConfig> = {}): BalancerConfig {
  const base = loadConfig(balancerProgram, { argv: [], env: {} }).config;
  return { ...base, listen: { host: '127.0.0.1', port: 0 }, controlListen: { host: '127.0.0.1', port: 0 }, probationShare: 1, shadowShare: 0, allowPrivateNodeUrls: true, ...overrides };
}

export async function startBalancer(opts: StartBalancerOptions = {}): Promise<StartedBalancer> {
  const ownPool = opts.pool ? null : createPool({ url: opts.url ?? '', log: silentLogger(), max: 5, applicationName: 'verity-balancer-test' });
  const pool = opts.pool ?? (ownPool as Pool);
  const config = balancerTestConfig(opts.config);
  const auditSecret = opts.auditSecret ?? testAuditSecret;
  const adminToken = opts.adminToken ?? testAdminToken;
  // The same secret the control plane hands node keys out from (settings), as in production.
  const nodeRequestSecret = (await getOrCreateSetting(pool, NODE_REQUEST_SECRET_SETTING)).value;
  const balancer = await buildBalancer(config, {
    pool, log: opts.log ?? silentLogger(), adminToken, auditSecret, nodeRequestSecret, plugins: opts.plugins ?? [],
    ...opts.deps,
    // Inserted test nodes never heartbeat: no offline sweep unless a test asks for it.
    background: { health: false, siteRefresh: true, offlineSweep: false, ...opts.deps?.background },
  });
  const urls = await balancer.listen(config.listen, config.controlListen);
  let closing: Promise<void> | null = null;
  return {
    ...urls, auditSecret, adminToken, balancer,
    // Idempotent, so a test may close early and the cleanup close again.
    close: () => (closing ??= (async () => {
      await balancer.close();
      await ownPool?.end();
    })()),
  };
}

/** A site row, as `verity site add` would make it. */
export async function insertTestSite(db: Queryable, site: { host: string; origin: string; privateRoutes?: string[]; publicRoutes?: string[]; dynamicPolicy?: 'origin' | 'sampled'; manifestUrl?: string }): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    'INSERT INTO sites (host, origin, private_routes, public_routes, dynamic_policy, integrity_manifest_url) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text',
    [site.host, site.origin, site.privateRoutes ?? [], site.publicRoutes ?? [], site.dynamicPolicy ?? 'origin', site.manifestUrl ?? null],
  );
  return (rows[0] as { id: string }).id;
}

export interface TestNodeSpec {
  url: string;
  siteIds: string[];
  status?: 'probation' | 'active' | 'quarantined' | 'banned' | 'offline';
  lat?: number;
  lon?: number;
  subnet?: string;
  integrity?: number;
  availability?: number;
  name?: string;
}

/** A node row plus node_sites, as a registration would leave them. Returns the node id. */
export async function insertTestNode(db: Queryable, spec: TestNodeSpec): Promise<string> {
  const id = randomBytes(16).toString('hex');
  // One statement: the node and its sites commit (and NOTIFY the balancers) together, so no
  // balancer ever holds the node without its sites.
  await db.query(
    `WITH n AS (
       INSERT INTO nodes (id, name, public_key, public_url, declared_lat, declared_lon, subnet, status, integrity, availability)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id)
     INSERT INTO node_sites (node_id, site_id) SELECT n.id, s.site_id::uuid FROM n, unnest($11::text[]) AS s(site_id)`,
    [id, spec.name ?? `node-${id.slice(0, 6)}`, randomBytes(32).toString('base64url'), spec.url, spec.lat ?? null, spec.lon ?? null,
      spec.subnet ?? null, spec.status ?? 'active', spec.integrity ?? 0.9, spec.availability ?? 0.9, spec.siteIds],
  );
  return id;
}

export interface Visit {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** One request to the balancer with a given Host (no keep-alive, no redirects followed). */
export function visit(baseUrl: string, path: string, opts: { host: string; method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number }): Promise<Visit> {
  return new Promise((resolve, reject) => {
    // The path goes on the wire as given (`//x`, `/a/../b`), not resolved as a URL would be.
    const u = new URL(baseUrl);
    const req = request({ hostname: u.hostname, port: u.port, path, method: opts.method ?? 'GET', agent: false, headers: { host: opts.host, ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (!res.complete) return reject(new Error('response cut short'));
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 20_000, () => req.destroy(new Error('visit timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends raw bytes on a fresh connection and returns everything the server wrote until it closed (or timeout). */
export function rawExchange(baseUrl: string, bytes: string | Buffer, timeoutMs = 5_000): Promise<string> {
  const u = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * Visits a URL until a node (not the origin) answers it: the origin must first have published
 * it (seen answered twice with the same bytes). Returns that answer; fails after `tries`.
 */
export async function visitPublished(bal: StartedBalancer, path: string, opts: { host: string; headers?: Record<string, string>; tries?: number }): Promise<Visit> {
  for (let i = 0; i < (opts.tries ?? 20); i++) {
    const r = await visit(bal.publicUrl, path, { host: opts.host, headers: opts.headers });
    if (r.headers['x-verity-node'] !== 'origin') return r;
    await bal.balancer.revalidator.settled();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${path} was never served by a node`);
}

/** Waits until the balancer knows `path` as published (stable) for the site. */
export async function waitPublished(bal: StartedBalancer, siteId: string, path: string, host: string): Promise<void> {
  await visit(bal.publicUrl, path, { host });
  await waitFor(async () => {
    await bal.balancer.revalidator.settled();
    return [...bal.balancer.runtime.publications.all()].some((p) => p.siteId === siteId && p.url === path && p.mode === 'stable');
  });
}

/**
 * Visits each path until the origin has published it one way or another (stable or dynamic),
 * as a site's first visitors would: afterwards nodes may serve what the site lets them.
 */
export async function warmPublications(bal: StartedBalancer, host: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    for (let i = 0; i < 2; i++) {
      await visit(bal.publicUrl, path, { host, headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' } });
      await bal.balancer.revalidator.settled();
    }
  }
}
