// Trust is two Beta reputations per node (integrity, availability) plus a status. Everything
// here is pure: the same history replayed through applyTrustEvent gives the same scores, so
// any score can be explained from the append-only trust_events rows.

export const nodeStatuses = ['probation', 'active', 'quarantined', 'banned', 'offline'] as const;
export type NodeStatus = (typeof nodeStatuses)[number];

export interface Beta {
  alpha: number;
  beta: number;
}

export interface TrustState {
  integrity: Beta;
  availability: Beta;
  status: NodeStatus;
  cleanAuditStreak: number;
  /**
   * Weight of proven failures (confirmed or unambiguous findings, digest mismatches), decaying
   * with the same half-life as the scores. Unconfirmed findings never add to it.
   */
  provenFailures: number;
  updatedAt: Date;
}

export const trustEventKinds = [
  'audit_pass',
  'audit_tampered',
  'audit_inconclusive',
  'audit_unreachable',
  'integrity_mismatch',
  'header_strike',
  'truncation_strike',
  'shadow_mismatch',
  'health_ok',
  'health_fail',
  'heartbeat_missed',
  'heartbeat_resumed',
  'registered',
  'admin_quarantine',
  'admin_reinstate',
  'admin_ban',
  /** Re-registered with another public URL, address, subnet or a far-away location: back to probation. */
  'identity_changed',
  /** A node sharing this one's public URL or address was quarantined, or this one joined such a group. */
  'linked_quarantine',
  /**
   * A re-check the volunteer asked for passed. It moves nothing: the node knew that page would be
   * audited within minutes, so a pass shows only that it served it honestly then.
   */
  'recheck_pass',
] as const;
export type TrustEventKind = (typeof trustEventKinds)[number];

export type Severity = 'low' | 'medium' | 'high' | 'critical';

/**
 * How sure a tamper verdict is: `unambiguous` (bytes that differ from a digest the origin
 * published, or a host no origin render ever contacted), `confirmed` (repeated by confirmation
 * audits with fresh origin renders), or `unconfirmed` (one audit; recorded, weighs little).
 */
export const confirmations = ['unconfirmed', 'confirmed', 'unambiguous'] as const;
export type Confirmation = (typeof confirmations)[number];

export interface TrustEvent {
  kind: TrustEventKind;
  /** For tamper findings: how bad the worst finding was. */
  severity?: Severity;
  /** For tamper findings: how sure the verdict is (absent: treated as confirmed). */
  confirmation?: Confirmation;
}

export interface TrustPolicy {
  prior: Beta;
  /** Evidence loses half its weight toward the prior every halfLifeMs. */
  halfLifeMs: number;
  /** Failure weight of a confirmed or unambiguous tamper, by severity; a pass adds 1 success. */
  tamperWeight: Record<Severity, number>;
  /**
   * Failure weight of an unconfirmed tamper finding, whatever its severity: one audit that the
   * confirmation audits did not repeat may be the origin's own noise. Recorded, weighs little,
   * and never counts toward `quarantineFailureMass`.
   */
  unconfirmedWeight: number;
  /** Bytes that differ from the origin's digest: unambiguous, counted in full. */
  integrityMismatchWeight: number;
  /** Kept for replaying old histories: the balancer no longer strikes headers (visitors get the origin's). */
  headerStrikeWeight: number;
  /**
   * A body cut short, or a node too slow to answer, looks the same whether the node is flooded
   * or its home line dropped: availability only, never integrity.
   */
  truncationAvailabilityWeight: number;
  /** One shadow-sampled page that differed from a fresh origin fetch: unconfirmed, like an unconfirmed finding. */
  shadowMismatchWeight: number;
  unreachableWeight: number;
  healthOkWeight: number;
  healthFailWeight: number;
  /** probation → active once integrity ≥ this and the clean streak is long enough. */
  promoteIntegrity: number;
  promoteCleanAudits: number;
  /** active/probation → quarantined below this integrity. */
  quarantineIntegrity: number;
  /**
   * …or once this much proven failure weight has piled up (decaying), whatever the passes: a long
   * clean record must not buy a node the right to tamper. One critical confirmed tamper, or two
   * high ones, do it; unconfirmed findings never do.
   */
  quarantineFailureMass: number;
  /** Integrity passes stop counting above this success weight, so the score stays responsive. */
  maxSuccessMass: number;
  /** Availability keeps at most this much evidence (scaled down, ratio kept): recent behaviour counts. */
  availabilityMaxMass: number;
}

export const defaultTrustPolicy: TrustPolicy = {
  prior: { alpha: 1, beta: 1 },
  halfLifeMs: 14 * 24 * 3600_000,
  tamperWeight: { low: 2, medium: 6, high: 15, critical: 30 },
  unconfirmedWeight: 0.25,
  integrityMismatchWeight: 15,
  headerStrikeWeight: 4,
  truncationAvailabilityWeight: 1,
  shadowMismatchWeight: 0.25,
  unreachableWeight: 1,
  healthOkWeight: 0.05,
  healthFailWeight: 0.5,
  promoteIntegrity: 0.75,
  promoteCleanAudits: 5,
  quarantineIntegrity: 0.35,
  quarantineFailureMass: 25,
  maxSuccessMass: 60,
  availabilityMaxMass: 100,
};

export function score(b: Beta): number {
  return b.alpha / (b.alpha + b.beta);
}

export function initialTrust(now: Date, policy: TrustPolicy = defaultTrustPolicy): TrustState {
  return { integrity: { ...policy.prior }, availability: { ...policy.prior }, status: 'probation', cleanAuditStreak: 0, provenFailures: 0, updatedAt: now };
}

function decayBeta(b: Beta, prior: Beta, factor: number): Beta {
  return { alpha: prior.alpha + (b.alpha - prior.alpha) * factor, beta: prior.beta + (b.beta - prior.beta) * factor };
}

export function decay(state: TrustState, now: Date, policy: TrustPolicy = defaultTrustPolicy): TrustState {
  const dt = Math.max(0, now.getTime() - state.updatedAt.getTime());
  const factor = Math.pow(0.5, dt / policy.halfLifeMs);
  return {
    ...state,
    integrity: decayBeta(state.integrity, policy.prior, factor),
    availability: decayBeta(state.availability, policy.prior, factor),
    provenFailures: state.provenFailures * factor,
    updatedAt: now,
  };
}

/** How much one event weighs on integrity, and whether that weight is proven. */
export function integrityFailure(event: TrustEvent, policy: TrustPolicy = defaultTrustPolicy): { weight: number; proven: boolean } {
  switch (event.kind) {
    case 'audit_tampered':
      return event.confirmation === 'unconfirmed'
        ? { weight: policy.unconfirmedWeight, proven: false }
        : { weight: policy.tamperWeight[event.severity ?? 'high'], proven: true };
    case 'integrity_mismatch':
      return { weight: policy.integrityMismatchWeight, proven: true };
    case 'header_strike':
      return { weight: policy.headerStrikeWeight, proven: true };
    case 'shadow_mismatch':
      return { weight: policy.shadowMismatchWeight, proven: false };
    default:
      return { weight: 0, proven: false };
  }
}

function moveScores(state: TrustState, event: TrustEvent, policy: TrustPolicy): TrustState {
  const moved = moveBetas(state, event, policy);
  const a = moved.availability;
  const mass = a.alpha + a.beta;
  if (mass <= policy.availabilityMaxMass) return moved;
  const k = policy.availabilityMaxMass / mass;
  return { ...moved, availability: { alpha: a.alpha * k, beta: a.beta * k } };
}

function moveBetas(state: TrustState, event: TrustEvent, policy: TrustPolicy): TrustState {
  // Integrity: successes are capped, failures are not (a long record cannot absorb tampering).
  const pass = (b: Beta): Beta => ({ alpha: Math.max(b.alpha, Math.min(policy.maxSuccessMass, b.alpha + 1)), beta: b.beta });
  const addA = (b: Beta, successes: number, failures: number): Beta => ({ alpha: b.alpha + successes, beta: b.beta + failures });
  const s = { ...state };
  const failure = integrityFailure(event, policy);
  if (failure.weight > 0) {
    return {
      ...s,
      integrity: { alpha: s.integrity.alpha, beta: s.integrity.beta + failure.weight },
      provenFailures: s.provenFailures + (failure.proven ? failure.weight : 0),
      // A shadow sample is not an audit: it leaves the audit streak alone.
      cleanAuditStreak: event.kind === 'shadow_mismatch' ? s.cleanAuditStreak : 0,
    };
  }
  switch (event.kind) {
    case 'audit_pass':
      return { ...s, integrity: pass(s.integrity), availability: addA(s.availability, 1, 0), cleanAuditStreak: s.cleanAuditStreak + 1 };
    case 'truncation_strike':
      return { ...s, availability: addA(s.availability, 0, policy.truncationAvailabilityWeight) };
    case 'audit_unreachable':
      return { ...s, availability: addA(s.availability, 0, policy.unreachableWeight) };
    case 'health_ok':
      return { ...s, availability: addA(s.availability, policy.healthOkWeight, 0) };
    case 'health_fail':
    case 'heartbeat_missed':
      return { ...s, availability: addA(s.availability, 0, policy.healthFailWeight) };
    case 'identity_changed':
      // The record stays (it is history), but the streak that earned `active` belonged to the old identity.
      return { ...s, cleanAuditStreak: 0 };
    default:
      return s;
  }
}

function nextStatus(state: TrustState, event: TrustEvent, policy: TrustPolicy): NodeStatus {
  if (event.kind === 'admin_ban') return 'banned';
  if (state.status === 'banned') return 'banned';
  if (event.kind === 'admin_quarantine' || event.kind === 'linked_quarantine') return 'quarantined';
  if (event.kind === 'admin_reinstate') return 'active';
  // Leaving quarantine is an admin's decision: a tamperer must not earn its way back silently.
  if (state.status === 'quarantined') return 'quarantined';
  const integrity = score(state.integrity);
  if (integrity < policy.quarantineIntegrity || state.provenFailures >= policy.quarantineFailureMass) return 'quarantined';
  if (event.kind === 'heartbeat_missed') return 'offline';
  if (event.kind === 'identity_changed') return state.status === 'offline' ? 'offline' : 'probation';
  if (state.status === 'offline' && event.kind === 'heartbeat_resumed') {
    return state.cleanAuditStreak >= policy.promoteCleanAudits && integrity >= policy.promoteIntegrity ? 'active' : 'probation';
  }
  if (state.status === 'probation' && integrity >= policy.promoteIntegrity && state.cleanAuditStreak >= policy.promoteCleanAudits) return 'active';
  return state.status;
}

/** One step of the trust history: decay to `now`, move the scores, then the status. */
export function applyTrustEvent(state: TrustState, event: TrustEvent, now: Date, policy: TrustPolicy = defaultTrustPolicy): TrustState {
  const moved = moveScores(decay(state, now, policy), event, policy);
  if (event.kind === 'admin_reinstate') {
    // Reinstating restores the benefit of the doubt: back to the prior, with a clean slate.
    return { ...moved, integrity: { ...policy.prior }, provenFailures: 0, cleanAuditStreak: 0, status: 'active' };
  }
  return { ...moved, status: nextStatus(moved, event, policy) };
}

/** Statuses that may receive visitor traffic. */
export function isRoutable(status: NodeStatus): boolean {
  return status === 'probation' || status === 'active';
}
