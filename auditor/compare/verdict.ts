import { severityRank, type Finding, type Verdict } from './types.js';

// Cheap to deep, one verdict. Only findings of medium severity or worse accuse a node: a
// low-severity oddity alone (a pixel diff) is noise until something structural backs it.

export interface VerdictInput {
  state: 'compared' | 'unreachable' | 'inconclusive';
  findings: readonly Finding[];
  /** The rendered step failed (browser crash, deadline): without accusing findings, nothing is proven. */
  renderFailed?: boolean;
}

export function decideVerdict(input: VerdictInput): Verdict {
  if (input.state === 'unreachable') return 'unreachable';
  if (input.state === 'inconclusive') return 'inconclusive';
  const accusing = input.findings.some((f) => severityRank[f.severity] >= severityRank.medium);
  if (accusing) return 'tampered';
  if (input.renderFailed) return 'inconclusive';
  if (input.findings.length > 0) return 'inconclusive';
  return 'pass';
}
