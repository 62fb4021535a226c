// The "classifier node": what a careful rogue would train on the requests it sees, to tell audits
// from visitors. Features are only what a node observes; rules are the best single-feature and
// two-feature rules it can learn on one half of a mixed run, scored on the other half by balanced
// accuracy (50 % is chance). Pure.

export type FeatureValue = string | number;

export interface ObservedRequest {
  label: 'audit' | 'visitor';
  /** Which half: rules are learned on 'train' and scored on 'test'. */
  split: 'train' | 'test';
  features: Record<string, FeatureValue>;
}

export interface Rule {
  features: string[];
  /** Balanced accuracy on the held-out half. */
  accuracy: number;
  description: string;
}

const bins = 8;

/** Numeric features become quantile bins learned on the training half (so a rule is a table). */
function binner(train: readonly ObservedRequest[], name: string): (v: FeatureValue) => string {
  const values = train.map((r) => r.features[name]).filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
  if (values.length === 0) return (v) => String(v);
  const edges = [...new Set(Array.from({ length: bins - 1 }, (_, i) => values[Math.floor(((i + 1) * values.length) / bins)] ?? 0))];
  return (v) => (typeof v === 'number' ? `≤${edges.find((e) => v <= e) ?? '∞'}` : String(v));
}

function key(r: ObservedRequest, names: readonly string[], bin: Map<string, (v: FeatureValue) => string>): string {
  return names.map((n) => (bin.get(n) ?? String)(r.features[n] ?? '∅')).join(' × ');
}

/** Per cell, the class more likely by balanced weight; unseen cells say "visitor" (the majority in any real run). */
function score(train: readonly ObservedRequest[], test: readonly ObservedRequest[], names: readonly string[], bin: Map<string, (v: FeatureValue) => string>): { accuracy: number; audits: string[] } {
  const nAudit = Math.max(1, train.filter((r) => r.label === 'audit').length);
  const nVisitor = Math.max(1, train.length - nAudit);
  const cells = new Map<string, number>();
  for (const r of train) cells.set(key(r, names, bin), (cells.get(key(r, names, bin)) ?? 0) + (r.label === 'audit' ? 1 / nAudit : -1 / nVisitor));
  const auditCells = new Set([...cells].filter(([, w]) => w > 0).map(([k]) => k));
  let tp = 0;
  let tn = 0;
  let pos = 0;
  let neg = 0;
  for (const r of test) {
    const saysAudit = auditCells.has(key(r, names, bin));
    if (r.label === 'audit') {
      pos++;
      if (saysAudit) tp++;
    } else {
      neg++;
      if (!saysAudit) tn++;
    }
  }
  return { accuracy: (tp / Math.max(1, pos) + tn / Math.max(1, neg)) / 2, audits: [...auditCells].slice(0, 4) };
}

export function bestRules(requests: readonly ObservedRequest[], top = 5): { single: Rule[]; pairs: Rule[] } {
  const train = requests.filter((r) => r.split === 'train');
  const test = requests.filter((r) => r.split === 'test');
  const names = [...new Set(requests.flatMap((r) => Object.keys(r.features)))].sort();
  const bin = new Map(names.map((n) => [n, binner(train, n)]));
  const rule = (fs: string[]): Rule => {
    const s = score(train, test, fs, bin);
    return { features: fs, accuracy: s.accuracy, description: s.audits.length ? `audit when ${s.audits.join(' or ')}${s.audits.length === 4 ? ' …' : ''}` : 'never says audit' };
  };
  const single = names.map((n) => rule([n])).sort((a, b) => b.accuracy - a.accuracy).slice(0, top);
  const pairs: Rule[] = [];
  for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) pairs.push(rule([names[i] ?? '', names[j] ?? '']));
  return { single, pairs: pairs.sort((a, b) => b.accuracy - a.accuracy).slice(0, top) };
}

/**
 * The same learner on the same requests with the labels shuffled: how well the best of many
 * rules scores by chance alone on a run of this size (the noise floor to read results against).
 */
export function shuffledBaseline(requests: readonly ObservedRequest[], random: () => number): number {
  const labels = requests.map((r) => r.label);
  for (let i = labels.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [labels[i], labels[j]] = [labels[j] ?? 'visitor', labels[i] ?? 'visitor'];
  }
  const { single, pairs } = bestRules(requests.map((r, i) => ({ ...r, label: labels[i] ?? 'visitor' })), 1);
  return Math.max(single[0]?.accuracy ?? 0, pairs[0]?.accuracy ?? 0);
}
