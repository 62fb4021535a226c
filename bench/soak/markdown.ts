import { cpus } from 'node:os';
import type { SoakReport } from './scenario.js';
import { median, originStretches, soakFigures, type SoakFigures } from './summary.js';

// The "Resilience soak" section of docs/benchmarks.md: medians over the runs, each run's own line.

type Numeric = { [K in keyof SoakFigures]: SoakFigures[K] extends number ? K : never }[keyof SoakFigures];

export function machineLine(): string {
  const cpu = cpus();
  return `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}, shared with other work), Node ${process.versions.node}, ${process.platform}`;
}

const pct = (x: number): string => `${(100 * x).toFixed(3)}%`;

/** What the figures mean where a reader could misread them, and what limited any missed target. */
function limits(figs: SoakFigures[]): string[] {
  const lines = [
    'Reading the figures:',
    '- *Altered static bytes*: every JS/CSS/PNG answer the visitor received is hashed; the balancers check node bytes against the origin\'s',
    '  hash before a byte leaves, serve the origin\'s copy on a mismatch and strike the node. One caught mismatch already quarantined the',
    '  turncoat in these runs, so it got few chances to try again.',
    '- *Altered pages*: the soak\'s site lets nodes serve its dynamic pages (`--dynamic sampled`: they differ per request, so they cannot be',
    '  verified inline; stable pages are); shadow sampling and the auditor catch alterations after the fact, and no auditor runs in the',
    '  soak. Dynamic pages the turncoat altered before its quarantine did reach visitors and are counted here: the stated risk of',
    '  `--dynamic sampled` (docs/balancer.md).',
    '- *Lost / hung*: a request the visitor sent and got no complete answer for. A keep-alive connection the server closed just as the',
    '  request went out is retried by the visitor, as browsers do; those are counted under failovers, not hidden.',
    '- *SIGTERM*: a draining balancer answers 503 + `Connection: close` until quiet, stops the kernel queueing new connections, then',
    '  closes; a request lost during a drain is counted as lost (test/integration/balancer/drain.test.ts guards this).',
    '- *Served by the origin*: a node that is down, draining, quarantined or failing health checks is skipped and the origin serves;',
    '  each run lists the seconds in which the origin answered more visitors than the nodes did. Where the origin served for long',
    '  stretches, it was because nodes were quarantined. In early runs shadow sampling still compared visible text, and a rotating',
    '  quote (8 values) made honest cached pages look altered; it now compares structure only, and',
    '  `test/integration/balancer/shadow-honest.test.ts` keeps an honest node from ever being struck that way.',
    '- *Memory*: resident set of the balancer that ran the whole soak (the other one was restarted), from /proc once a second; the',
    '  median over 10–30 % of the run is compared with the median over its last 20 %.',
  ];
  const missed: string[] = [];
  if (figs.some((f) => f.fiveXxOutsidePgShare >= 0.001)) missed.push('5xx outside the PostgreSQL window reached 0.1 %');
  if (figs.some((f) => f.lost > 0 || f.hung > 0 || f.unanswered > 0)) missed.push('some requests were lost, hung or unanswered (see each run)');
  if (figs.some((f) => f.alteredStatic > 0)) missed.push('altered static bytes reached a visitor');
  lines.push('', missed.length === 0 ? 'Every target was met in every run.' : `Missed: ${missed.join('; ')}.`);
  return lines;
}

export function soakMarkdown(reports: SoakReport[], command: string): string {
  const figs = reports.map(soakFigures);
  const med = (k: Numeric): number => median(figs.map((f) => f[k]));
  const mem = figs.map((f) => f.memory).filter((m) => m !== null);
  const first = reports[0];
  const verdict = (ok: boolean): string => (ok ? 'met' : '**missed**');
  const rows: [string, string, string, string][] = [
    ['requests sent', String(med('sent')), '', ''],
    ['2xx', String(med('ok2xx')), '', ''],
    ['5xx outside the PostgreSQL-down window', `${med('fiveXxOutsidePg')} (${pct(med('fiveXxOutsidePgShare'))})`, '< 0.1 %', verdict(figs.every((f) => f.fiveXxOutsidePgShare < 0.001))],
    ['5xx inside the PostgreSQL-down window', String(med('fiveXxInPg')), '', ''],
    ['lost (sent, then the connection failed or the body was cut)', String(med('lost')), '0 beyond those in flight at SIGTERM', verdict(figs.every((f) => f.lost === 0))],
    ['hung (no complete answer in 40 s)', String(med('hung')), '0', verdict(figs.every((f) => f.hung === 0))],
    ['unanswered (no balancer took it)', String(med('unanswered')), '0', verdict(figs.every((f) => f.unanswered === 0))],
    ['altered static bytes delivered (every JS/CSS/PNG answer hashed)', `${med('alteredStatic')} of ${med('staticChecked')}`, '0', verdict(figs.every((f) => f.alteredStatic === 0))],
    ['static mismatches caught inline by the balancers', String(med('integrityMismatches')), '', ''],
    ['altered dynamic pages delivered (the soak\'s site is --dynamic sampled)', String(med('alteredHtml')), '', ''],
    ['retries by the balancers (another node)', String(med('balancerRetries')), '', ''],
    ['503 "shutting down" from the draining balancer, retried by the visitor elsewhere', String(med('shed')), '', ''],
    ['client failovers to the other balancer (refused, draining, keep-alive closed)', String(med('failovers')), '', ''],
    ['share served by nodes', pct(med('servedByNodesShare')), '', ''],
    ['latency p50 / p99 (ms)', `${med('p50Ms')} / ${med('p99Ms')}`, '', ''],
    ['balancer RSS growth, late vs early (MB)', mem.length ? median(mem.map((m) => m.growthMb)).toFixed(1) : 'n/a', 'flat', mem.length ? verdict(mem.every((m) => m.growthMb < Math.max(10, 0.15 * m.earlyMb))) : 'n/a'],
  ];
  return [
    '## Resilience soak',
    '',
    `\`${command}\` — ${reports.length} run(s) of ${((first?.durationMs ?? 0) / 1000).toFixed(0)} s; machine: ${machineLine()}.`,
    '',
    'Real processes: an embedded PostgreSQL of the soak\'s own, the sample origin, two `verity balancer` on one database (the visitor spreads',
    'its requests over both, as DNS round robin would, and tries the other one when a balancer refuses or is draining), four `verity node`,',
    'the last behind the demo\'s doctoring proxy. Faults, one after another: a node is SIGKILLed (10 %) and restarted (20 %); the proxied node',
    'turns rogue (28 %: every JS/CSS file and half the pages altered); PostgreSQL is stopped for a while and started again (40 %);',
    'the first balancer gets SIGTERM and is started again (65 %); a node gets SIGTERM (it drains) and is started again (85 %).',
    'Every static answer is hashed against the origin\'s SHA-256.',
    '',
    '| figure (median of runs) | value | target | |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    ...limits(figs),
    '',
    'Each run:',
    '',
    ...reports.map((r, i) => {
      const f = soakFigures(r);
      return `- run ${i + 1}: sent ${f.sent}, 2xx ${f.ok2xx}, 5xx ${f.fiveXx} (${f.fiveXxInPg} in the PostgreSQL window), lost ${f.lost}, hung ${f.hung}, altered static ${f.alteredStatic}/${f.staticChecked}, `
        + `caught inline ${f.integrityMismatches}, turncoat ends ${r.turncoatFinalStatus}, SIGTERM exit ${r.sigtermExitCode}, `
        + `RSS ${f.memory ? `${f.memory.earlyMb.toFixed(0)} → ${f.memory.lateMb.toFixed(0)} MB (max ${f.memory.maxMb.toFixed(0)})` : 'n/a'}, `
        + `PostgreSQL down ${r.pgWindow ? `${(r.pgWindow.fromMs / 1000).toFixed(0)}–${(r.pgWindow.toMs / 1000).toFixed(0)} s` : 'n/a'}, `
        + `origin answered most visitors during ${originStretches(r).join(', ') || 'no second'}`
        + (r.counts.failures.length > 0 ? `; lost/hung: ${r.counts.failures.slice(0, 5).map((x) => `${(x.atMs / 1000).toFixed(1)} s ${x.kind}`).join('; ')}` : '');
    }),
  ].join('\n');
}
