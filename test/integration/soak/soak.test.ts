import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/log.js';
import { runSoak, type SoakReport } from '../../../bench/soak/scenario.js';
import { describeRun } from '../../../bench/soak/summary.js';

// The short resilience soak (the full one is `npm run soak`): real PostgreSQL, two real
// balancers, four real nodes (one turns rogue behind a doctoring proxy), the sample origin;
// a node is killed and restarted, PostgreSQL stops and starts, a balancer gets SIGTERM and
// comes back, all under visitor load. Only targets that a 20-second run can show are asserted.

const dir = mkdtempSync(join(tmpdir(), 'verity-soak-test-'));
// PostgreSQL runs as its own user and must reach its data directory inside.
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resilience soak (short)', () => {
  let report: SoakReport;

  it('serves every visitor through node kills, a turncoat, a PostgreSQL restart and a balancer SIGTERM', async () => {
    report = await runSoak({
      dir, log: silentLogger(), durationMs: 20_000, concurrency: 4, ratePerSecond: 30, timeoutMs: 25_000, startTimeoutMs: 90_000,
      // A short deadline keeps a stuck request from outliving the run; it is still far above normal latency.
      balancerArgs: ['--health-interval', '2s', '--deadline', '15s'],
    });
    const c = report.counts;
    expect(report.events.map((e) => e.name.split(' ')[0])).toEqual(['SIGKILL', 'restart', 'node-turncoat', 'stop', 'SIGTERM', 'SIGTERM']);
    expect(c.sent, describeRun(report)).toBeGreaterThan(100);
    // Nothing is lost, a balancer's SIGTERM drain included (docs/balancer.md, shutdown drain).
    expect({ lost: c.lost, hung: c.hung, unanswered: c.unanswered }, describeRun(report)).toEqual({ lost: 0, hung: 0, unanswered: 0 });
    expect(report.sigtermExitCode).toBe(0);
  }, 150_000);

  it('delivers zero altered static bytes while the turncoat alters every JS/CSS file (and the balancer caught it)', () => {
    expect(report.counts.staticChecked).toBeGreaterThan(30);
    expect(report.counts.alteredStatic, describeRun(report)).toBe(0);
    expect(report.balancerCounters.verity_balancer_integrity_mismatches_total, describeRun(report)).toBeGreaterThan(0);
  });

  it('answers 5xx to under 1% of visitors outside the PostgreSQL-down window', () => {
    expect(report.pgWindow).not.toBeNull();
    expect(report.fiveXxOutsidePg / report.counts.sent, describeRun(report)).toBeLessThan(0.01);
  });
});
