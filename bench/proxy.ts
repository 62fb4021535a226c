import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../common/db/embedded.js';
import { openDatabase } from '../common/db/open.js';
import { getOrCreateSetting } from '../common/db/queries/settings.js';
import { createJoinToken } from '../common/db/queries/tokens.js';
import { silentLogger } from '../common/log.js';
import { NODE_REQUEST_AUTH_HEADER, NODE_REQUEST_SECRET_SETTING, nodeRequestKey, signNodeRequest } from '../common/protocol/node-request-auth.js';
import { cpuMs, load, type LoadResult } from './load.js';
import type { Queryable } from '../common/db/pool.js';
import { saveSiteCertificate, sealContext } from '../common/db/queries/certificates.js';
import { factsOf, leafOf } from '../common/tls/certificate.js';
import { createSecretBox } from '../common/tls/secret-box.js';
import { createCa, issueServerCertificate, type PemPair } from '../common/tls/x509.js';

// The request path, measured so it cannot flatter: a real `verity node` with a warm cache sits
// behind every proxy, and in the same run, targets interleaved round by round: the node direct,
// nginx (1 worker, keep-alive upstream), a bare Node proxy (http-proxy; the ceiling), a bare
// undici pool that buffers and hashes (the least a verifying proxy does), and Verity with
// --workers 1 and with one worker per core. wrk when installed (1 thread), else autocannon.
// Requests to the node (direct, through nginx or a bare proxy) carry the balancer's signature,
// made fresh before each run, as the node requires. HTTPS rows: Verity and nginx both terminate
// TLS (the same P-256 certificate, HTTP/1.1 as wrk speaks it). wrk sends the URL's host as SNI
// (127.0.0.1), so that name gets a site row of its own holding the certificate; requests still
// say Host: bench.test.
const TLS_SECRET = 'bench-tls-secret-0123456789abcdef0123456789';

const HOST = 'bench.test';
const PATHS = { page: '/page', script: '/app.js' } as const;
const BASELINES = new URL('./baselines.ts', import.meta.url).pathname;

export interface Row { path: keyof typeof PATHS; target: string; rps: number; p50: number; p99: number; failures: number; cpuUsPerRequest: number }
export interface ProxyBench { rows: Row[]; seconds: number; connections: number; rounds: number; tool: string }

function child(args: string[], env: Record<string, string> = {}): { proc: ChildProcess; line: (re: RegExp) => Promise<string> } {
  const proc = spawn(process.execPath, args, { env: { ...process.env, VERITY_LOG_LEVEL: 'error', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const line = (re: RegExp): Promise<string> => new Promise((resolve, reject) => {
    const until = Date.now() + 60_000;
    const check = (): void => {
      const m = re.exec(out);
      if (m) return resolve(m[1] ?? '');
      if (proc.exitCode !== null || Date.now() > until) return reject(new Error(`${args.join(' ')} did not start: ${out.slice(-1500)}`));
      setTimeout(check, 50);
    };
    check();
  });
  return { proc, line };
}

async function startNginx(nodeUrl: string, dir: string, tls: PemPair): Promise<{ url: string; tlsUrl: string; proc: ChildProcess }> {
  const port = await freePort();
  const tlsPort = await freePort();
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, 'cert.pem'), tls.certPem);
  writeFileSync(join(dir, 'key.pem'), tls.keyPem);
  writeFileSync(join(dir, 'nginx.conf'), `worker_processes 1; error_log ${dir}/error.log warn; pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream node { server ${new URL(nodeUrl).host}; keepalive 64; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://node; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; } }
  server { listen 127.0.0.1:${tlsPort} ssl; ssl_certificate ${dir}/cert.pem; ssl_certificate_key ${dir}/key.pem;
    location / { proxy_pass http://node; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; } }
}
`);
  const proc = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  return { url: `http://127.0.0.1:${port}`, tlsUrl: `https://127.0.0.1:${tlsPort}`, proc };
}

/** The bench site's certificate, for its host and for the SNI wrk sends (127.0.0.1). */
async function benchCertificate(db: Queryable, siteId: string, originUrl: string): Promise<PemPair> {
  const pair = await issueServerCertificate(await createCa('Verity bench CA', 1), [HOST, '127.0.0.1'], 1);
  const sniSite = (await db.query<{ id: string }>('INSERT INTO sites (host, origin) VALUES ($1, $2) RETURNING id::text AS id', ['127.0.0.1', originUrl])).rows[0]?.id ?? '';
  const box = createSecretBox(TLS_SECRET);
  const facts = factsOf(leafOf(pair.certPem));
  for (const id of [siteId, sniSite]) await saveSiteCertificate(db, { siteId: id, source: 'owner', certPem: pair.certPem, keySealed: box.seal(pair.keyPem, sealContext(id)), facts });
  return pair;
}

function get(url: string, headers: Record<string, string>): Promise<{ status: number; servedBy: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { host: HOST, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, servedBy: String(res.headers['x-verity-node'] ?? '') }));
    }).on('error', reject).end();
  });
}

async function until(what: string, fn: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`bench setup: ${what} never happened`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

export async function benchProxy(opts: { seconds?: number; connections?: number; rounds?: number; only?: readonly string[]; paths?: ReadonlyArray<keyof typeof PATHS> } = {}): Promise<ProxyBench> {
  const seconds = opts.seconds ?? 5;
  const connections = opts.connections ?? 32;
  const rounds = opts.rounds ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'verity-bench-'));
  chmodSync(dir, 0o755);
  const procs: ChildProcess[] = [];
  const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, pgDir: join(dir, 'pg') }, silentLogger());
  try {
    const org = child(['--import', 'tsx', BASELINES, 'origin']);
    procs.push(org.proc);
    const originUrl = await org.line(/^listening: (\S+)$/m);
    const env = { DATABASE_URL: db.url, VERITY_ADMIN_TOKEN: 'bench-admin-token-0123456789', VERITY_AUDIT_SECRET: 'bench-audit-secret-0123456789', VERITY_ALLOW_PRIVATE_NODE_URLS: '1', VERITY_TLS_SECRET: TLS_SECRET };
    // BENCH_PROF=DIR: a CPU profile of the --workers 1 balancer (written when it stops).
    const prof = (workers: string): string[] => (process.env.BENCH_PROF && workers === '1' ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : []);
    const balancer = (workers: string) => child([...prof(workers), 'bin/verity', 'balancer', '--workers', workers, '--listen', '127.0.0.1:0', '--tls-listen', '127.0.0.1:0', '--control-listen', '127.0.0.1:0', '--shadow-share', '0'], env);
    const site = await db.pool.query<{ id: string }>('INSERT INTO sites (host, origin) VALUES ($1, $2) RETURNING id::text', [HOST, originUrl]);
    const siteId = site.rows[0]?.id ?? '';
    const tls = await benchCertificate(db.pool, siteId, originUrl);
    const one = balancer('1');
    procs.push(one.proc);
    const oneUrl = await one.line(/^balancer: (\S+)$/m);
    const oneTlsUrl = await one.line(/^https: (\S+)$/m);
    const control = await one.line(/^control: (\S+)$/m);
    const { token } = await createJoinToken(db.pool, { siteId, uses: 1, ttlMs: 600_000 });
    const nodePort = await freePort();
    const node = child(['bin/verity', 'node', '--balancer', control, '--token', token, '--listen', `127.0.0.1:${nodePort}`, '--status-listen', '127.0.0.1:0', '--data-dir', join(dir, 'node'), '--name', 'bench-node', '--cache-size', String(512 * 1024 * 1024), '--plain-http']);
    procs.push(node.proc);
    const nodeId = await node.line(/verity node ready: node ([0-9a-f]{32})/);
    const nodeUrl = `http://127.0.0.1:${nodePort}`;
    // A bench node is trusted from the start (probation would cap its share of traffic).
    await db.pool.query("UPDATE nodes SET status = 'active' WHERE id = $1", [nodeId]);
    const key = nodeRequestKey((await getOrCreateSetting(db.pool, NODE_REQUEST_SECRET_SETTING)).value, nodeId);
    const signed = (path: string): Record<string, string> => ({ host: HOST, [NODE_REQUEST_AUTH_HEADER]: signNodeRequest(key, { method: 'GET', host: HOST, target: path }, Date.now()) });
    const many = balancer(String(availableParallelism()));
    procs.push(many.proc);
    const manyUrl = await many.line(/^balancer: (\S+)$/m);
    const nginx = await startNginx(nodeUrl, join(dir, 'nginx'), tls);
    procs.push(nginx.proc);
    const bare = child(['--import', 'tsx', BASELINES, 'http-proxy', nodeUrl]);
    const sha = child(['--import', 'tsx', BASELINES, 'undici-sha', nodeUrl]);
    procs.push(bare.proc, sha.proc);
    const bareUrl = await bare.line(/^listening: (\S+)$/m);
    const shaUrl = await sha.line(/^listening: (\S+)$/m);
    // Warm: the node's cache, and what each balancer learned from the origin.
    for (const path of Object.values(PATHS)) {
      for (let i = 0; i < 3; i++) if ((await get(nodeUrl + path, signed(path))).status !== 200) throw new Error(`the node does not serve ${path}`);
      for (const url of [oneUrl, manyUrl]) await until(`${url}${path} served by the node`, async () => (await get(url + path, {})).servedBy === nodeId);
    }
    // Each target with the process whose CPU time it costs (the node serves every target alike).
    const pid = (p: ChildProcess): number => p.pid ?? 0;
    const targets: Array<[string, string, boolean, number]> = [
      ['node direct', nodeUrl, true, pid(node.proc)], ['nginx', nginx.url, true, pid(nginx.proc)], ['bare http-proxy', bareUrl, true, pid(bare.proc)],
      ['bare undici + SHA-256', shaUrl, true, pid(sha.proc)], ['verity --workers 1', oneUrl, false, pid(one.proc)], [`verity --workers ${availableParallelism()}`, manyUrl, false, pid(many.proc)],
      ['nginx HTTPS', nginx.tlsUrl, true, pid(nginx.proc)], ['verity --workers 1 HTTPS', oneTlsUrl, false, pid(one.proc)],
    ];
    const raw: Array<Row & { round: number }> = [];
    let tool = '';
    const chosen = targets.filter(([t]) => !opts.only || opts.only.some((o) => t.startsWith(o)));
    for (const [name, path] of (Object.entries(PATHS) as Array<[keyof typeof PATHS, string]>).filter(([n]) => !opts.paths || opts.paths.includes(n))) {
      for (let round = 0; round < rounds; round++) {
        for (const [target, base, needsSignature, proc] of round % 2 === 0 ? chosen : [...chosen].reverse()) {
          const cpu0 = cpuMs(proc);
          const r: LoadResult = await load(base + path, { headers: needsSignature ? signed(path) : { host: HOST }, seconds, connections });
          const cpuUsPerRequest = r.requests > 0 ? ((cpuMs(proc) - cpu0) * 1000) / r.requests : Number.NaN;
          tool = r.tool;
          raw.push({ path: name, target, rps: r.rps, p50: r.p50, p99: r.p99, failures: r.failures, cpuUsPerRequest, round });
          process.stderr.write(`proxy bench: ${name} ${target} round ${round + 1}/${rounds}: ${r.rps.toFixed(0)} req/s\n`);
        }
      }
    }
    const rows = [...new Set(raw.map((r) => `${r.path}\n${r.target}`))].map((k) => {
      const group = raw.filter((r) => `${r.path}\n${r.target}` === k);
      return {
        path: group[0]?.path ?? 'page', target: group[0]?.target ?? '', rps: median(group.map((r) => r.rps)), p50: median(group.map((r) => r.p50)), p99: median(group.map((r) => r.p99)),
        failures: group.reduce((a, r) => a + r.failures, 0), cpuUsPerRequest: median(group.map((r) => r.cpuUsPerRequest)),
      } satisfies Row;
    });
    return { rows, seconds, connections, rounds, tool };
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1_000));
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function renderProxy(b: ProxyBench): string {
  const label = { page: 'page 10 KB', script: 'script 100 KB' };
  const lines = [
    `${b.tool}, 1 thread, ${b.connections} connections, ${b.seconds} s per run, median of ${b.rounds} interleaved rounds; a real \`verity node\` with a warm cache behind every target.`,
    '',
    'CPU µs/request: the proxy process\'s own CPU time (user + system, its workers included) per answered request; unlike req/s it does not depend on what else the machine runs.',
    '',
    '| body | target | req/s | p50 ms | p99 ms | CPU µs/request | failures |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of b.rows) lines.push(`| ${label[r.path]} | ${r.target} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.cpuUsPerRequest.toFixed(0)} | ${r.failures} |`);
  lines.push('', '| body | verity/1 ÷ bare http-proxy | verity/1 ÷ bare undici+SHA | verity/1 ÷ nginx | verity/1 p99 ÷ nginx p99 | all-cores ÷ verity/1 | HTTPS: verity/1 ÷ nginx | HTTPS: verity/1 p99 ÷ nginx p99 |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const path of ['page', 'script'] as const) {
    const row = (t: string): Row | undefined => b.rows.find((r) => r.path === path && r.target === t);
    const v = row('verity --workers 1');
    const ratio = (a: number | undefined, c: number | undefined): string => (a !== undefined && c ? (a / c).toFixed(2) : 'n/a');
    const vs = row('verity --workers 1 HTTPS');
    const ns = row('nginx HTTPS');
    lines.push(`| ${label[path]} | ${ratio(v?.rps, row('bare http-proxy')?.rps)} | ${ratio(v?.rps, row('bare undici + SHA-256')?.rps)} | ${ratio(v?.rps, row('nginx')?.rps)} | ${ratio(v?.p99, row('nginx')?.p99)} | ${ratio(row(`verity --workers ${availableParallelism()}`)?.rps, v?.rps)} | ${ratio(vs?.rps, ns?.rps)} | ${ratio(vs?.p99, ns?.p99)} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${renderProxy(await benchProxy())}\n`);
