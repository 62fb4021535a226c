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
  /** Failure weight of a proven tamper, by severity; a pass adds 1 success. */
  tamperWeight: Record<Severity, number>;
  integrityMismatchWeight: number;
  headerStrikeWeight: number;
  /**
   * A body cut short looks the same whether the node cheated or its home line dropped: it
   * weighs mostly on availability, and on integrity only lightly (a pattern still adds up).
   */
  truncationIntegrityWeight: number;
  truncationAvailabilityWeight: number;
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
   * …or once this much failure weight has piled up (decaying), whatever the passes: a long clean
   * record must not buy a node the right to tamper. One critical tamper, or two high ones, do it.
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
  integrityMismatchWeight: 15,
  headerStrikeWeight: 4,
  truncationIntegrityWeight: 1,
  truncationAvailabilityWeight: 1,
  shadowMismatchWeight: 0.5,
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
  return { integrity: { ...policy.prior }, availability: { ...policy.prior }, status: 'probation', cleanAuditStreak: 0, updatedAt: now };
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
    updatedAt: now,
  };
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
  const add = (b: Beta, successes: number, failures: number): Beta => ({ alpha: Math.max(b.alpha, Math.min(policy.maxSuccessMass, b.alpha + successes)), beta: b.beta + failures });
  const addA = (b: Beta, successes: number, failures: number): Beta => ({ alpha: b.alpha + successes, beta: b.beta + failures });
  const s = { ...state };
  switch (event.kind) {
    case 'audit_pass':
      return { ...s, integrity: add(s.integrity, 1, 0), availability: addA(s.availability, 1, 0), cleanAuditStreak: s.cleanAuditStreak + 1 };
    case 'audit_tampered':
      return { ...s, integrity: add(s.integrity, 0, policy.tamperWeight[event.severity ?? 'high']), cleanAuditStreak: 0 };
    case 'integrity_mismatch':
      return { ...s, integrity: add(s.integrity, 0, policy.integrityMismatchWeight), cleanAuditStreak: 0 };
    case 'truncation_strike':
      return { ...s, integrity: add(s.integrity, 0, policy.truncationIntegrityWeight), availability: addA(s.availability, 0, policy.truncationAvailabilityWeight) };
    case 'header_strike':
      return { ...s, integrity: add(s.integrity, 0, policy.headerStrikeWeight), cleanAuditStreak: 0 };
    case 'shadow_mismatch':
      return { ...s, integrity: add(s.integrity, 0, policy.shadowMismatchWeight) };
    case 'audit_unreachable':
      return { ...s, availability: addA(s.availability, 0, policy.unreachableWeight) };
    case 'health_ok':
      return { ...s, availability: addA(s.availability, policy.healthOkWeight, 0) };
    case 'health_fail':
    case 'heartbeat_missed':
      return { ...s, availability: addA(s.availability, 0, policy.healthFailWeight) };
    default:
      return s;
  }
}

function nextStatus(state: TrustState, event: TrustEvent, policy: TrustPolicy): NodeStatus {
  if (event.kind === 'admin_ban') return 'banned';
  if (state.status === 'banned') return 'banned';
  if (event.kind === 'admin_quarantine') return 'quarantined';
  if (event.kind === 'admin_reinstate') return 'active';
  // Leaving quarantine is an admin's decision: a tamperer must not earn its way back silently.
  if (state.status === 'quarantined') return 'quarantined';
  const integrity = score(state.integrity);
  if (integrity < policy.quarantineIntegrity || state.integrity.beta >= policy.quarantineFailureMass) return 'quarantined';
  if (event.kind === 'heartbeat_missed') return 'offline';
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
    return { ...moved, integrity: { ...policy.prior }, cleanAuditStreak: 0, status: 'active' };
  }
  return { ...moved, status: nextStatus(moved, event, policy) };
}

/** Statuses that may receive visitor traffic. */
export function isRoutable(status: NodeStatus): boolean {
  return status === 'probation' || status === 'active';
}
