// `npm run simulate:trust`: replays synthetic histories through the real trust model
// (common/domain/trust.ts) and the real audit cadence (auditor/scheduler.ts), with the
// auditor's confirmation audits modelled (bench/trust-sim/model.ts). Pure and seeded: the same
// numbers every run. `-- --write` replaces the section in docs/benchmarks.md.
import { writeDocsSection } from './docs-section.js';
import { seededRandom as seeded } from '../common/domain/seeded-random.js';
import { defaultTrustPolicy, score } from '../common/domain/trust.js';
import { day, simulateNode, type AuditModel, type NodeModel, type RunOutcome } from './trust-sim/model.js';

const visitorsPerSecond = 1; // responses one node serves
const runs = 400;
const honestNodes = 100;
const audit: AuditModel = { auditEveryMs: 300_000, detection: 0.95, confirmAudits: 2, quorum: 2 };
const policy = defaultTrustPolicy;
/** Median scheduled audits to quarantine of the model before confirmations (docs/benchmarks.md until this change). */
const before: Record<string, Record<number, number>> = { new: { 1: 1, 0.3: 3, 0.05: 34 }, sleeper: { 1: 2, 0.3: 6, 0.05: 35 } };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)] ?? 0;
const pair = (xs: number[]) => `${median(xs)} / ${p95(xs)}`;

function tamperer(rate: number, repeat = 0.9): NodeModel {
  return { tamperRate: rate, repeat, falseAccusation: 0, unreachable: 0 };
}

function tamperRuns(rate: number, cleanDays: number, node: NodeModel, model: AuditModel = audit): RunOutcome[] {
  const random = seeded(1000 + rate * 100 + cleanDays);
  return Array.from({ length: runs }, () => simulateNode({ audit: model, policy, cleanDays, node, limitMs: 30 * day }, random));
}

function tamperTable(cleanDays: number, kind: 'new' | 'sleeper', label: string): string[] {
  const lines = [`### ${label}`, '',
    '| tamper rate | scheduled audits to quarantine (median / p95) | before confirmations (median) | confirmation audits run (median) | visitor responses (median / p95) | tampered responses delivered (median / p95) | quarantined within 30 days |',
    '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const rate of [1, 0.3, 0.05]) {
    const q = tamperRuns(rate, cleanDays, tamperer(rate)).filter((o) => o.quarantined);
    const responses = q.map((o) => Math.round((o.elapsedMs / 1000) * visitorsPerSecond));
    lines.push(`| ${Math.round(rate * 100)}% | ${pair(q.map((o) => o.audits))} | ${before[kind]?.[rate] ?? '–'} | ${median(q.map((o) => o.confirmationAudits))} | ${pair(responses)} | ${pair(responses.map((r) => Math.round(r * rate)))} | ${q.length}/${runs} |`);
  }
  return lines;
}

function honestRow(label: string, node: NodeModel, seed: number, model: AuditModel = audit): string {
  const random = seeded(seed);
  const out = Array.from({ length: honestNodes }, () => simulateNode({ audit: model, policy, cleanDays: 0, node, limitMs: 30 * day }, random));
  return `| ${label} | ${honestNodes} | ${out.filter((o) => o.quarantined).length} | ${median(out.map((o) => o.audits))} | ${median(out.map((o) => o.unconfirmed))} | ${out.reduce((a, o) => a + o.confirmed, 0)} | ${median(out.map((o) => score(o.state.integrity))).toFixed(2)} | ${median(out.map((o) => score(o.state.availability))).toFixed(2)} |`;
}

function honestTable(): string[] {
  const lines = ['### Honest nodes over a simulated month (30 days, audits at the real cadence, 20 % of audits unreachable)', '',
    '| auditor false accusations per audit | nodes | false quarantines | scheduled audits per node (median) | unconfirmed findings per node (median) | confirmed false findings (all nodes) | integrity at 30 days (median) | availability (median) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const fp of [0, 0.001, 0.01, 0.02]) {
    lines.push(honestRow(`${fp * 100}%`, { tamperRate: 0, repeat: 0, falseAccusation: fp, unreachable: 0.2 }, 77 + fp * 1e6));
  }
  return lines;
}

/** What the figures depend on: the confirmation rule, and how a tamperer behaves on re-audit. */
function sensitivityTable(): string[] {
  const anyOfTwo: AuditModel = { ...audit, quorum: 1 };
  const lines = ['### Sensitivity', '',
    '| case | result |', '| --- | --- |',
    `| honest, 1% false accusations, confirmed when **either** of 2 confirmation audits repeats | ${honestRow('', { tamperRate: 0, repeat: 0, falseAccusation: 0.01, unreachable: 0.2 }, 91, anyOfTwo).split('|')[3]?.trim()} of ${honestNodes} quarantined |`,
    `| honest, 1% false accusations that repeat on 10% of re-audits (page-specific noise) | ${honestRow('', { tamperRate: 0, repeat: 0, falseAccusation: 0.01, falseRepeat: 0.1, unreachable: 0.2 }, 92).split('|')[3]?.trim()} of ${honestNodes} quarantined |`];
  for (const [label, node] of [['5% tamperer that repeats on half of re-audits', tamperer(0.05, 0.5)], ['5% tamperer that alters random responses (repeats at 5%)', tamperer(0.05, 0.05)]] as const) {
    const out = tamperRuns(0.05, 30, node);
    const q = out.filter((o) => o.quarantined);
    lines.push(`| sleeper, ${label} | ${q.length}/${runs} quarantined within 30 days; median ${q.length ? median(q.map((o) => o.audits)) : '–'} scheduled audits |`);
  }
  return lines;
}

const out = [
  `Trust simulation: --audit-every ${audit.auditEveryMs / 1000}s, ${visitorsPerSecond} visitor response/s per node, detection ${audit.detection} per audited tampered page, ${runs} runs per tamper row.`,
  `Confirmation: a tampered verdict queues ${audit.confirmAudits} confirmation audits of the same URL through the same node; the finding counts as confirmed when ${audit.quorum} of them repeat it. A tamperer alters the same URL again on 90 % of re-audits (targeted tampering); a false accusation repeats only at its own rate (origin noise is independent).`,
  `Policy: confirmed tamper weight high=${policy.tamperWeight.high}, unconfirmed finding ${policy.unconfirmedWeight}, quarantine below integrity ${policy.quarantineIntegrity} or at proven failure mass ${policy.quarantineFailureMass}, half-life ${policy.halfLifeMs / day} days.`,
  '',
  ...tamperTable(0, 'new', 'New node that tampers from the start (probation)'),
  '',
  ...tamperTable(30, 'sleeper', 'Sleeper: 30 clean days (active, long streak), then tampers'),
  '',
  ...honestTable(),
  '',
  ...sensitivityTable(),
];
process.stdout.write(`${out.join('\n')}\n`);
if (process.argv.includes('--write')) writeDocsSection('trust-simulation', `## Trust simulation\n\n\`npm run simulate:trust -- --write\`\n\n${out.join('\n')}\n`);
