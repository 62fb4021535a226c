// `npm run soak:demo -- [--duration 15m] [--write]`: the demo as a new user runs it (`verity
// demo --fresh`, its own process group, audits at the demo's rate) left running, then judged:
// the rogue is caught, and no honest node gets a single tampered verdict. Bounded: at most 60
// minutes. --write puts the result into docs/benchmarks.md ("Demo soak").
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDurationMs } from '../common/config/shared.js';
import { writeDocsSection } from './docs-section.js';

interface ApiNode { id: string; name: string; status: string; integrity: number }
interface ApiAudit { nodeId: string; verdict: string; startedAt: string; findings: Array<{ summary: string }> }

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const durationMs = parseDurationMs(flag('duration', '15m')) ?? NaN;
if (!Number.isFinite(durationMs) || durationMs < 30_000 || durationMs > 3_600_000) {
  process.stderr.write('soak:demo: --duration must be between 30s and 60m\n');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'verity-demo-soak-'));
chmodSync(dir, 0o755);
const demo = spawn(process.execPath, ['bin/verity', 'demo', '--fresh', '--dir', join(dir, 'state'), '--pg-dir', join(dir, 'pg'), '--log-level', 'warn'], {
  detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env },
});
let out = '';
demo.stdout.on('data', (c: Buffer) => (out += c.toString()));
demo.stderr.on('data', (c: Buffer) => (out += c.toString()));

async function ready(): Promise<{ dashboard: string; token: string }> {
  const until = Date.now() + 180_000;
  for (;;) {
    const m = /verity demo ready\nsite: \S+\ndashboard: (\S+)\nadmin token: (\S+)/.exec(out);
    if (m) return { dashboard: (m[1] ?? '').replace(/\/$/, ''), token: m[2] ?? '' };
    if (demo.exitCode !== null || Date.now() > until) throw new Error(`the demo did not start:\n${out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function api<T>(base: string, token: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return (await res.json()) as T;
}

const t0 = Date.now();
const { dashboard, token } = await ready();
process.stderr.write(`soak:demo: ready after ${((Date.now() - t0) / 1000).toFixed(0)} s; running ${durationMs / 60_000} min\n`);
const started = Date.now();
let rogueCaughtMs: number | null = null;
while (Date.now() - started < durationMs) {
  await new Promise((r) => setTimeout(r, 15_000));
  const nodes = await api<ApiNode[]>(dashboard, token, '/api/v1/nodes');
  const rogues = nodes.filter((n) => n.name.includes('rogue'));
  if (rogueCaughtMs === null && rogues.length > 0 && rogues.every((n) => n.status === 'quarantined')) rogueCaughtMs = Date.now() - started;
  process.stderr.write(`soak:demo: ${((Date.now() - started) / 60_000).toFixed(1)} min: ${nodes.map((n) => `${n.name} ${n.status} ${n.integrity.toFixed(2)}`).join(', ')}\n`);
}
const nodes = await api<ApiNode[]>(dashboard, token, '/api/v1/nodes');
const audits = await api<ApiAudit[]>(dashboard, token, '/api/v1/audits?limit=1000');
process.kill(-(demo.pid ?? 0), 'SIGINT');
await new Promise((r) => demo.once('exit', r));
rmSync(dir, { recursive: true, force: true });

const rows = nodes.map((n) => {
  const mine = audits.filter((a) => a.nodeId === n.id);
  const count = (v: string): number => mine.filter((a) => a.verdict === v).length;
  return { name: n.name, rogue: n.name.includes('rogue'), status: n.status, integrity: n.integrity, pass: count('pass'), tampered: count('tampered'), other: mine.length - count('pass') - count('tampered') };
});
const honestTampered = rows.filter((r) => !r.rogue).reduce((a, r) => a + r.tampered, 0);
const caught = rows.filter((r) => r.rogue).every((r) => r.status === 'quarantined');
const lines = [
  '## Demo soak', '',
  `\`npm run soak:demo -- --duration ${durationMs / 60_000}m\`: \`verity demo --fresh\` left running with audits at the demo's rate. ` +
  `Rogue caught: **${caught ? 'yes' : 'no'}**${rogueCaughtMs !== null ? ` (quarantined within ${(rogueCaughtMs / 1000).toFixed(0)} s of ready)` : ''}; ` +
  `tampered verdicts on honest nodes: **${honestTampered}**.`,
  '', '| node | status | integrity | audits passed | tampered | other |', '| --- | --- | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.name} | ${r.status} | ${r.integrity.toFixed(2)} | ${r.pass} | ${r.tampered} | ${r.other} |`),
  '', '"other" are inconclusive or unreachable audits (the page could not be judged, or the node did not answer in time); they lower no integrity.',
  '', `(${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end)`,
];
process.stdout.write(`${lines.join('\n')}\n`);
if (process.argv.includes('--write')) writeDocsSection('demo-soak', lines.join('\n'));
process.exit(caught && honestTampered === 0 ? 0 : 1);
