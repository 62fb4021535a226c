// The trust simulation's model of audits: what one scheduled audit of a node yields, including
// the confirmation audits a tampered verdict triggers. Pure: randomness is handed in.
import { nextAuditDelayMs } from '../../auditor/scheduler.js';
import { applyTrustEvent, initialTrust, score, type TrustEvent, type TrustPolicy, type TrustState } from '../../common/domain/trust.js';

export const day = 86_400_000;

/** How the auditor judges: detection, noise, and the confirmation rule. */
export interface AuditModel {
  /** --audit-every (ms). */
  auditEveryMs: number;
  /** Chance that an audit of a tampered page finds it. */
  detection: number;
  /** Confirmation audits queued after a tampered verdict (same URL, same node, fresh origin renders). */
  confirmAudits: number;
  /** How many of them must repeat the finding for it to count as confirmed. */
  quorum: number;
}

/** A node's behaviour. */
export interface NodeModel {
  /** Share of pages it alters. */
  tamperRate: number;
  /** Chance that it alters the same URL again when the confirmation audits fetch it (targeted tampering repeats). */
  repeat: number;
  /** Chance that an audit of an untouched page is judged tampered anyway (origin noise, auditor bugs). */
  falseAccusation: number;
  /** Chance that a confirmation audit repeats a false accusation (noise does not repeat on its own: by default the same rate). */
  falseRepeat?: number;
  /** Share of audits that cannot reach the node (home lines). */
  unreachable: number;
}

export interface AuditResult {
  event: TrustEvent;
  confirmationAudits: number;
}

function confirm(model: AuditModel, repeatChance: number, random: () => number): boolean {
  let repeats = 0;
  for (let i = 0; i < model.confirmAudits; i++) if (random() < repeatChance) repeats++;
  return repeats >= model.quorum;
}

/** One scheduled audit, with its confirmation audits when the verdict is tampered. */
export function runAudit(model: AuditModel, node: NodeModel, random: () => number): AuditResult {
  if (random() < node.unreachable) return { event: { kind: 'audit_unreachable' }, confirmationAudits: 0 };
  const tampered = random() < node.tamperRate;
  if (tampered && random() < model.detection) {
    const confirmed = confirm(model, node.repeat * model.detection, random);
    return { event: { kind: 'audit_tampered', severity: 'high', confirmation: confirmed ? 'confirmed' : 'unconfirmed' }, confirmationAudits: model.confirmAudits };
  }
  if (!tampered && random() < node.falseAccusation) {
    const confirmed = confirm(model, node.falseRepeat ?? node.falseAccusation, random);
    return { event: { kind: 'audit_tampered', severity: 'medium', confirmation: confirmed ? 'confirmed' : 'unconfirmed' }, confirmationAudits: model.confirmAudits };
  }
  return { event: { kind: 'audit_pass' }, confirmationAudits: 0 };
}

export interface RunOutcome {
  /** Scheduled audits in the measured period (confirmation audits are counted apart). */
  audits: number;
  confirmationAudits: number;
  unconfirmed: number;
  confirmed: number;
  elapsedMs: number;
  quarantined: boolean;
  state: TrustState;
}

export interface RunSpec {
  audit: AuditModel;
  policy: TrustPolicy;
  /** Honest days before the behaviour starts (a sleeper). */
  cleanDays: number;
  node: NodeModel;
  limitMs: number;
}

function nextDelay(state: TrustState, spec: RunSpec, random: () => number): number {
  return nextAuditDelayMs({ status: state.status, integrity: score(state.integrity), cleanAuditStreak: state.cleanAuditStreak }, spec.audit.auditEveryMs, random);
}

/** A node's history at the real audit cadence: `cleanDays` honest, then `node` until quarantine or the limit. */
export function simulateNode(spec: RunSpec, random: () => number): RunOutcome {
  let t = 0;
  let state = initialTrust(new Date(0), spec.policy);
  const honest: NodeModel = { tamperRate: 0, repeat: 0, falseAccusation: 0, unreachable: 0 };
  while (t < spec.cleanDays * day) {
    t += nextDelay(state, spec, random);
    state = applyTrustEvent(state, runAudit(spec.audit, honest, random).event, new Date(t), spec.policy);
  }
  const start = t;
  const out = { audits: 0, confirmationAudits: 0, unconfirmed: 0, confirmed: 0 };
  while (t - start < spec.limitMs && state.status !== 'quarantined') {
    t += nextDelay(state, spec, random);
    const r = runAudit(spec.audit, spec.node, random);
    out.audits++;
    out.confirmationAudits += r.confirmationAudits;
    if (r.event.kind === 'audit_tampered') {
      if (r.event.confirmation === 'unconfirmed') out.unconfirmed++;
      else out.confirmed++;
    }
    state = applyTrustEvent(state, r.event, new Date(t), spec.policy);
  }
  return { ...out, elapsedMs: t - start, quarantined: state.status === 'quarantined', state };
}
