import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Database } from '../../common/db/open.js';
import { getOrCreateSetting } from '../../common/db/queries/settings.js';
import { insertSite } from '../../common/db/queries/sites.js';
import { createJoinToken } from '../../common/db/queries/tokens.js';
import { silentLogger } from '../../common/log.js';
import { NODE_REQUEST_SECRET_SETTING, nodeRequestKey } from '../../common/protocol/node-request-auth.js';

// A real Verity on this machine for the suite: PostgreSQL (DATABASE_URL, else embedded), the
// `verity balancer` program, and one `verity node` process that enrolled with a join token like
// any volunteer. The balancer runs with --probation-share 1 so that the new node gets every
// request a node may serve.

export const SITE_HOST = 'conformance.test';
const VERITY_BIN = fileURLToPath(new URL('../../bin/verity', import.meta.url));

export interface VerityStack {
  balancerUrl: string;
  nodeUrl: string;
  nodeId: string;
  /** The key the balancer signs this node's requests with. */
  requestKey: string;
  stop(): Promise<void>;
}

function program(args: string[], env: Record<string, string>): { proc: ChildProcess; line: (re: RegExp) => Promise<RegExpMatchArray> } {
  const proc = spawn(process.execPath, [VERITY_BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', VERITY_LOG_LEVEL: 'error', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const line = (re: RegExp): Promise<RegExpMatchArray> => new Promise((resolve, reject) => {
    const until = Date.now() + 60_000;
    const check = (): void => {
      const m = re.exec(out);
      if (m) return resolve(m);
      if (proc.exitCode !== null || Date.now() > until) return reject(new Error(`verity ${args[0]} did not start: ${out.slice(-2000)}`));
      setTimeout(check, 50);
    };
    check();
  });
  return { proc, line };
}

function stopped(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

export async function startVerity(dir: string, origin: string): Promise<VerityStack> {
  mkdirSync(dir, { recursive: true });
  const db: Database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, pgDir: join(dir, 'pg') }, silentLogger());
  const procs: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(procs.reverse().map(stopped));
    await db.close();
  };
  try {
    const site = await insertSite(db.pool, { host: SITE_HOST, origin, privateRoutes: [] });
    const { token } = await createJoinToken(db.pool, { siteId: site.id, uses: 1, ttlMs: 3_600_000 });
    const bal = program(['balancer', '--listen', '127.0.0.1:0', '--control-listen', '127.0.0.1:0', '--probation-share', '1', '--shadow-share', '0'], {
      DATABASE_URL: db.url, VERITY_ADMIN_TOKEN: 'conformance-admin-token-0123456789', VERITY_AUDIT_SECRET: 'conformance-audit-secret-0123456789', VERITY_ALLOW_PRIVATE_NODE_URLS: '1',
    });
    procs.push(bal.proc);
    const balancerUrl = (await bal.line(/^balancer: (\S+)$/m))[1] ?? '';
    const controlUrl = (await bal.line(/^control: (\S+)$/m))[1] ?? '';
    const node = program(['node', '--balancer', controlUrl, '--token', token, '--listen', '127.0.0.1:0', '--status-listen', '127.0.0.1:0', '--data-dir', join(dir, 'node'), '--name', 'conformance-node', '--plain-http'], {});
    procs.push(node.proc);
    const ready = await node.line(/verity node ready: node ([0-9a-f]{32}) serving (\S+),/);
    const nodeId = ready[1] ?? '';
    const secret = (await getOrCreateSetting(db.pool, NODE_REQUEST_SECRET_SETTING)).value;
    await waitUntilRouted(balancerUrl, nodeId);
    return { balancerUrl, nodeUrl: ready[2] ?? '', nodeId, requestKey: nodeRequestKey(secret, nodeId), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function servedBy(url: string): Promise<string | null> {
  return new Promise((resolve) => {
    get(url, { headers: { host: SITE_HOST } }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-verity-node'] ?? '')));
    }).on('error', () => resolve(null));
  });
}

/**
 * The balancer's routing table follows the database: wait (at most 10 s) until it sends a
 * public, cacheable URL to the node. A balancer that sends never-seen URLs to the origin first
 * learns this one on the first request.
 */
async function waitUntilRouted(balancerUrl: string, nodeId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await servedBy(`${balancerUrl}/`)) === nodeId) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}
