import { severityRank, type Finding, type Verdict } from './types.js';

// Cheap to deep, one verdict. Only findings of medium severity or worse accuse a node: a
// low-severity oddity alone (a pixel diff from a rotating quote) is a note on a pass.

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
  return 'pass';
}
