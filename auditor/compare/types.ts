import type { Severity } from '../../common/domain/trust.js';

export type { Severity } from '../../common/domain/trust.js';

/** One thing the node served differently from the origin, in a way the origin itself does not vary. */
export interface Finding {
  kind: string;
  severity: Severity;
  summary: string;
  /** Side by side, for the 'fragments' evidence; truncated. */
  origin?: string | null;
  node?: string | null;
  /**
   * Needs no confirmation (issue 14): bytes that differ from a digest the origin published, or a
   * host that no origin render ever contacted after several renders and no origin page names.
   */
  unambiguous?: boolean;
}

export type Verdict = 'pass' | 'tampered' | 'inconclusive' | 'unreachable';

export const severityRank: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export function worstSeverity(findings: readonly Finding[]): Severity | null {
  let worst: Severity | null = null;
  for (const f of findings) if (worst === null || severityRank[f.severity] > severityRank[worst]) worst = f.severity;
  return worst;
}

export function clip(s: string | null | undefined, max = 300): string | null {
  if (s === null || s === undefined) return null;
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
