// `npm run simulate:trust`: replays synthetic histories through the real trust model
// (common/domain/trust.ts) and the real audit cadence (auditor/scheduler.ts). Pure and seeded:
// the same numbers every run.
import { nextAuditDelayMs } from '../auditor/scheduler.js';
import { writeDocsSection } from './docs-section.js';
import { seededRandom as seeded } from '../common/domain/seeded-random.js';
import { applyTrustEvent, defaultTrustPolicy, initialTrust, score, type TrustState } from '../common/domain/trust.js';

const auditEveryMs = 300_000; // the CONTRACT.md default
const visitorsPerSecond = 1; // responses one node serves
const detection = 0.95; // chance an audit of a tampered page proves it (the corpus measures 1.0)
const day = 86_400_000;

interface Outcome {
  audits: number;
  responses: number;
  tamperedResponses: number;
  quarantined: boolean;
}

/** A node with `cleanDays` of honest history, then tampering with `rate` of its pages. */
function tamperRun(rate: number, cleanDays: number, random: () => number, limitMs = 30 * day): Outcome {
  let t = 0;
  let state: TrustState = initialTrust(new Date(0));
  const step = (kind: 'audit_pass' | 'audit_tampered') => {
    state = applyTrustEvent(state, kind === 'audit_pass' ? { kind } : { kind, severity: 'high' }, new Date(t));
  };
  while (t < cleanDays * day) {
    t += nextAuditDelayMs({ status: state.status, integrity: score(state.integrity), cleanAuditStreak: state.cleanAuditStreak }, auditEveryMs, random);
    step('audit_pass');
  }
  const start = t;
  let audits = 0;
  while (t - start < limitMs && state.status !== 'quarantined') {
    t += nextAuditDelayMs({ status: state.status, integrity: score(state.integrity), cleanAuditStreak: state.cleanAuditStreak }, auditEveryMs, random);
    audits++;
    step(random() < rate && random() < detection ? 'audit_tampered' : 'audit_pass');
  }
  const responses = Math.round(((t - start) / 1000) * visitorsPerSecond);
  return { audits, responses, tamperedResponses: Math.round(responses * rate), quarantined: state.status === 'quarantined' };
}

/** An honest node over `days`: `unreachable` share of audits fail to connect, `falseAccusation` are wrongly judged tampered. */
function honestRun(days: number, unreachable: number, falseAccusation: number, random: () => number): { quarantined: boolean; audits: number; availability: number } {
  let t = 0;
  let audits = 0;
  let state: TrustState = initialTrust(new Date(0));
  while (t < days * day) {
    t += nextAuditDelayMs({ status: state.status, integrity: score(state.integrity), cleanAuditStreak: state.cleanAuditStreak }, auditEveryMs, random);
    audits++;
    const r = random();
    const event = r < unreachable ? { kind: 'audit_unreachable' as const } : random() < falseAccusation ? { kind: 'audit_tampered' as const, severity: 'medium' as const } : { kind: 'audit_pass' as const };
    state = applyTrustEvent(state, event, new Date(t));
    if (state.status === 'quarantined') return { quarantined: true, audits, availability: score(state.availability) };
  }
  return { quarantined: false, audits, availability: score(state.availability) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)] ?? 0;
const runs = 400;

function tamperTable(cleanDays: number, label: string): string[] {
  const lines = [`### ${label}`, '', '| tamper rate | audits to quarantine (median / p95) | visitor responses (median / p95) | tampered responses delivered (median / p95) | quarantined within 30 days |', '| --- | --- | --- | --- | --- |'];
  for (const rate of [1, 0.3, 0.05]) {
    const random = seeded(1000 + rate * 100 + cleanDays);
    const out = Array.from({ length: runs }, () => tamperRun(rate, cleanDays, random));
    const q = out.filter((o) => o.quarantined);
    lines.push(`| ${Math.round(rate * 100)}% | ${median(q.map((o) => o.audits))} / ${p95(q.map((o) => o.audits))} | ${median(q.map((o) => o.responses))} / ${p95(q.map((o) => o.responses))} | ${median(q.map((o) => o.tamperedResponses))} / ${p95(q.map((o) => o.tamperedResponses))} | ${q.length}/${runs} |`);
  }
  return lines;
}

function honestTable(): string[] {
  const lines = ['### Honest nodes over a simulated month (30 days, audits at the real cadence)', '', '| unreachable audits | auditor false accusations | nodes | false quarantines | audits per node | availability score (median) |', '| --- | --- | --- | --- | --- | --- |'];
  for (const [unreachable, fp] of [[0.2, 0], [0.2, 0.0001], [0.2, 0.001]] as const) {
    const random = seeded(77 + fp * 1e6);
    const nodes = 100;
    const out = Array.from({ length: nodes }, () => honestRun(30, unreachable, fp, random));
    lines.push(`| ${unreachable * 100}% | ${fp * 100}% | ${nodes} | ${out.filter((o) => o.quarantined).length} | ${median(out.map((o) => o.audits))} | ${median(out.map((o) => o.availability)).toFixed(2)} |`);
  }
  return lines;
}

const policy = defaultTrustPolicy;
const out = [
  `Trust simulation: --audit-every ${auditEveryMs / 1000}s, ${visitorsPerSecond} visitor response/s per node, detection ${detection} per audited tampered page, ${runs} runs per row.`,
  `Policy: tamper weight high=${policy.tamperWeight.high}, quarantine below integrity ${policy.quarantineIntegrity} or at failure mass ${policy.quarantineFailureMass}, half-life ${policy.halfLifeMs / day} days.`,
  '',
  ...tamperTable(0, 'New node that tampers from the start (probation)'),
  '',
  ...tamperTable(30, 'Sleeper: 30 clean days (active, long streak), then tampers'),
  '',
  ...honestTable(),
];
process.stdout.write(`${out.join('\n')}\n`);
if (process.argv.includes('--write')) writeDocsSection('trust-simulation', `## Trust simulation\n\n\`npm run simulate:trust -- --write\`\n\n${out.join('\n')}\n`);
