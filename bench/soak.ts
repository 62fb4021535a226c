// `npm run soak -- [--duration 3m] [--runs 1] [--rate 60] [--concurrency 8] [--write] [--json FILE] [--keep]`:
// the resilience soak with real processes (PostgreSQL, two balancers, four nodes, one of which
// turns rogue, the sample origin). Bounded: at most 30 minutes per run and 5 runs.
// --write puts the figures (medians over the runs) into docs/benchmarks.md ("Resilience soak").
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDurationMs } from '../common/config/shared.js';
import { silentLogger } from '../common/log.js';
import { writeDocsSection } from './docs-section.js';
import { runSoak, type SoakReport } from './soak/scenario.js';
import { describeRun } from './soak/summary.js';
import { soakMarkdown } from './soak/markdown.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function bounded(name: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    process.stderr.write(`soak: --${name} must be between ${min} and ${max}\n`);
    process.exit(2);
  }
  return value;
}

const durationMs = bounded('duration (ms)', parseDurationMs(flag('duration', '3m')) ?? NaN, 5_000, 30 * 60_000);
const runs = bounded('runs', Number(flag('runs', '1')), 1, 5);
const ratePerSecond = bounded('rate', Number(flag('rate', '60')), 1, 2000);
const concurrency = bounded('concurrency', Number(flag('concurrency', '8')), 1, 256);
const write = process.argv.includes('--write');
const keep = process.argv.includes('--keep');

const reports: SoakReport[] = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'verity-soak-'));
  // PostgreSQL runs as its own user and must reach its data directory inside.
  chmodSync(dir, 0o755);
  process.stderr.write(`soak run ${i + 1}/${runs} in ${dir}\n`);
  try {
    const report = await runSoak({
      dir, log: silentLogger(), durationMs, concurrency, ratePerSecond, timeoutMs: 40_000, startTimeoutMs: 120_000,
      balancerArgs: ['--health-interval', '2s'], progress: (l) => process.stderr.write(`  ${l}\n`),
    });
    reports.push(report);
    process.stdout.write(`run ${i + 1}:\n${describeRun(report)}\n\n`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
const jsonFile = flag('json', '');
// The raw reports (every 5xx with its times, every RSS sample), for a closer look.
if (jsonFile) writeFileSync(jsonFile, JSON.stringify(reports.map((r) => ({ ...r, counts: { ...r.counts, latenciesMs: undefined } })), null, 1));
if (write) {
  const command = `npm run soak -- --duration ${flag('duration', '3m')} --runs ${runs} --rate ${ratePerSecond} --concurrency ${concurrency} --write`;
  writeDocsSection('resilience-soak', soakMarkdown(reports, command));
  process.stdout.write('docs/benchmarks.md: "Resilience soak" updated\n');
}
