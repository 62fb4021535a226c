import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../common/db/open.js';
import { silentLogger } from '../common/log.js';

// Proxy overhead, side by side in one run: the node directly, the balancer in front of it, and
// nginx as a keep-alive reverse proxy in front of the same node. Plain pages (~10 KB) and
// inline-verified static assets (1 MB). Targets alternate round by round so drift on a shared
// machine hits all of them alike. Every run is bounded: seconds × targets × paths × rounds.

interface CannonResult { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number }
type Cannon = (opts: { url: string; connections: number; duration: number; headers: Record<string, string> }) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const HOST = 'bench.test';
const PAGE = '/page';
const ASSET = '/asset.png';

export interface ProxyRow { path: string; target: string; rps: number; p50: number; p99: number; failures: number }
export interface ProxyBench { rows: ProxyRow[]; seconds: number; connections: number; rounds: number }

function content(): { page: Buffer; asset: Buffer } {
  const page = Buffer.from(`<!doctype html><html><head><title>bench</title></head><body>${'<p>Lorem ipsum dolor sit amet, consectetur adipiscing.</p>'.repeat(170)}</body></html>`);
  const asset = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < asset.length; i++) asset[i] = (i * 131) % 251;
  return { page, asset };
}

/** Upstream mode: origin and node as one child process, so the bench's own load generator does not share their event loop. */
async function serveUpstreams(): Promise<void> {
  const { page, asset } = content();
  const make = (): Server => createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/.well-known/verity/health') return void res.end('{"ok":true}');
    const body = path === ASSET ? asset : page;
    res.writeHead(200, { 'content-type': path === ASSET ? 'image/png' : 'text/html; charset=utf-8', 'content-length': body.length, 'cache-control': 'public, max-age=60' });
    res.end(body);
  });
  const listen = async (s: Server): Promise<number> => {
    s.keepAliveTimeout = 65_000;
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as AddressInfo).port;
  };
  process.stdout.write(`origin: http://127.0.0.1:${await listen(make())}\nnode: http://127.0.0.1:${await listen(make())}\n`);
}

function child(cmd: string, args: string[], env: Record<string, string> = {}): { proc: ChildProcess; line: (re: RegExp) => Promise<string> } {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const line = (re: RegExp): Promise<string> => new Promise((resolve, reject) => {
    const until = Date.now() + 30_000;
    const check = (): void => {
      const m = re.exec(out);
      if (m) return resolve(m[1] ?? '');
      if (proc.exitCode !== null || Date.now() > until) return reject(new Error(`${cmd} did not start: ${out.slice(-1000)}`));
      setTimeout(check, 50);
    };
    check();
  });
  return { proc, line };
}

function startNginx(nodeUrl: string, dir: string): Promise<{ url: string; proc: ChildProcess }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), `worker_processes 1; error_log ${dir}/error.log warn; pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream node { server ${new URL(nodeUrl).host}; keepalive 64; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://node; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; } }
}
`);
  const proc = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  return new Promise((resolve) => setTimeout(() => resolve({ url: `http://127.0.0.1:${port}`, proc }), 500));
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { host: HOST } }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-verity-node'] ?? '')));
    }).on('error', reject).end();
  });
}

export async function benchProxy(opts: { seconds?: number; connections?: number; rounds?: number } = {}): Promise<ProxyBench> {
  const seconds = opts.seconds ?? 3;
  const connections = opts.connections ?? 32;
  const rounds = opts.rounds ?? 2;
  const dir = mkdtempSync(join(tmpdir(), 'verity-bench-'));
  // The embedded server may run as another user than ours (root runs it unprivileged).
  chmodSync(dir, 0o755);
  const procs: ChildProcess[] = [];
  const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, pgDir: join(dir, 'pg') }, silentLogger());
  try {
    const up = child(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--upstreams']);
    procs.push(up.proc);
    const originUrl = await up.line(/^origin: (\S+)$/m);
    const nodeUrl = await up.line(/^node: (\S+)$/m);
    const site = await db.pool.query<{ id: string }>('INSERT INTO sites (host, origin) VALUES ($1, $2) RETURNING id::text', [HOST, originUrl]);
    await db.pool.query("INSERT INTO nodes (id, name, public_key, public_url, status, integrity, availability) VALUES ($1, 'bench-node', 'bench-key', $2, 'active', 0.9, 0.9)", ['b'.repeat(32), nodeUrl]);
    await db.pool.query('INSERT INTO node_sites (node_id, site_id) VALUES ($1, $2)', ['b'.repeat(32), site.rows[0]?.id]);
    const bal = child(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : []), 'bin/verity', 'balancer', '--listen', '127.0.0.1:0', '--control-listen', '127.0.0.1:0', '--shadow-share', '0'], {
      DATABASE_URL: db.url, VERITY_LOG_LEVEL: 'error', VERITY_ADMIN_TOKEN: 'bench-admin-token-0123456789', VERITY_AUDIT_SECRET: 'bench-audit-secret-0123456789', VERITY_ALLOW_PRIVATE_NODE_URLS: '1',
    });
    procs.push(bal.proc);
    const balancerUrl = await bal.line(/^balancer: (\S+)$/m);
    const nginx = await startNginx(nodeUrl, join(dir, 'nginx'));
    procs.push(nginx.proc);
    await get(balancerUrl + ASSET); // the first request of a static file learns its hash from the origin
    if ((await get(balancerUrl + ASSET)) !== 'b'.repeat(32) || (await get(balancerUrl + PAGE)) !== 'b'.repeat(32)) throw new Error('the balancer does not route to the bench node');
    const targets: Array<[string, string]> = [['direct', nodeUrl], ['balancer', balancerUrl], ['nginx', nginx.url]];
    const raw: ProxyRow[] = [];
    for (const path of [PAGE, ASSET]) {
      for (let round = 0; round < rounds; round++) {
        for (const [target, base] of round % 2 === 0 ? targets : [...targets].reverse()) {
          const r = await autocannon({ url: base + path, connections, duration: seconds, headers: { host: HOST } });
          raw.push({ path, target, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failures: r.non2xx + r.errors });
        }
      }
    }
    return { rows: average(raw), seconds, connections, rounds };
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function average(rows: ProxyRow[]): ProxyRow[] {
  const keys = [...new Set(rows.map((r) => `${r.path} ${r.target}`))];
  return keys.map((k) => {
    const group = rows.filter((r) => `${r.path} ${r.target}` === k);
    const mean = (f: (r: ProxyRow) => number): number => group.reduce((a, r) => a + f(r), 0) / group.length;
    return { path: group[0]?.path ?? '', target: group[0]?.target ?? '', rps: mean((r) => r.rps), p50: mean((r) => r.p50), p99: mean((r) => r.p99), failures: group.reduce((a, r) => a + r.failures, 0) };
  });
}

export function renderProxy(b: ProxyBench): string {
  const lines = ['| path | target | req/s | p50 ms | p99 ms | failures |', '| --- | --- | ---: | ---: | ---: | ---: |'];
  for (const r of b.rows) lines.push(`| ${r.path === PAGE ? 'page ~10 KB' : 'asset 1 MB (verified)'} | ${r.target} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.failures} |`);
  lines.push('', '| path | balancer / direct (req/s) | balancer / nginx (req/s) |', '| --- | ---: | ---: |');
  for (const path of [PAGE, ASSET]) {
    const rps = (t: string): number => b.rows.find((r) => r.path === path && r.target === t)?.rps ?? Number.NaN;
    lines.push(`| ${path === PAGE ? 'page ~10 KB' : 'asset 1 MB (verified)'} | ${(rps('balancer') / rps('direct')).toFixed(2)} | ${(rps('balancer') / rps('nginx')).toFixed(2)} |`);
  }
  return lines.join('\n');
}

if (process.argv.includes('--upstreams')) await serveUpstreams();
else if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${renderProxy(await benchProxy())}\n`);
