import { isForeign, type Feature, type FeatureKind } from './document.js';
import { addToPool, exactValue, generalizeValue, matchesValue, renderValue, type Shape, type ValueTemplate } from './value-template.js';
import { clip, type Finding, type Severity } from './types.js';

// Origin samples → what is stable; node features → what changed. Pure.

export interface LearnedKey {
  kind: FeatureKind;
  path: string;
  shape: Shape;
  /** One template per occurrence; null when the key itself comes and goes between origin fetches. */
  templates: ValueTemplate[] | null;
  /**
   * Every value the origin put at this key. Where templates are null, a node's code or URL must
   * still match one of these: varying positions never license new code or a new host.
   */
  pool: ValueTemplate[];
}
export type Learned = Map<string, LearnedKey>;

export interface FeatureChange {
  kind: FeatureKind;
  path: string;
  change: 'added' | 'removed' | 'changed';
  origin: string | null;
  node: string | null;
}

const keyOf = (f: Feature) => `${f.kind}\u0001${f.path}`;

function group(features: readonly Feature[]): Map<string, Feature[]> {
  const m = new Map<string, Feature[]>();
  for (const f of features) {
    const k = keyOf(f);
    const list = m.get(k);
    if (list) list.push(f);
    else m.set(k, [f]);
  }
  return m;
}

/** Pools bind code and URLs only: text at a place that comes and goes may be anything. */
const pooled = (f: Feature) => f.shape !== 'text';

function keyFrom(fs: Feature[], templates: ValueTemplate[] | null): LearnedKey {
  const f = fs[0] as Feature;
  const pool = pooled(f) ? fs.reduce<ValueTemplate[]>((p, x) => addToPool(p, x.value, x.shape), []) : [];
  return { kind: f.kind, path: f.path, shape: f.shape, templates, pool };
}

export function learn(samples: ReadonlyArray<readonly Feature[]>): Learned {
  const learned: Learned = new Map();
  const [first, ...rest] = samples;
  if (!first) return learned;
  for (const [k, fs] of group(first)) learned.set(k, keyFrom(fs, fs.map((f) => exactValue(f.value, f.shape))));
  for (const sample of rest) {
    const g = group(sample);
    for (const [k, fs] of g) {
      const l = learned.get(k);
      if (!l) {
        learned.set(k, keyFrom(fs, null));
        continue;
      }
      if (pooled(fs[0] as Feature)) for (const f of fs) l.pool = addToPool(l.pool, f.value, f.shape);
      if (l.templates && l.templates.length !== fs.length) l.templates = null;
      else if (l.templates) l.templates = l.templates.map((t, i) => generalizeValue(t, fs[i]?.value ?? ''));
    }
    for (const [k, l] of learned) if (!g.has(k)) l.templates = null;
  }
  return learned;
}

function diffKey(l: LearnedKey, values: string[], out: FeatureChange[]): void {
  const t = l.templates;
  const base = { kind: l.kind, path: l.path };
  if (!t) {
    // The key comes and goes: text may be anything, but code and URLs must be the origin's.
    if (l.shape === 'text') return;
    for (const v of values) if (!l.pool.some((p) => matchesValue(p, v))) out.push({ ...base, change: 'added', origin: null, node: v });
    return;
  }
  if (t.length === values.length) {
    t.forEach((tpl, i) => {
      const v = values[i] ?? '';
      if (!matchesValue(tpl, v)) out.push({ ...base, change: 'changed', origin: renderValue(tpl), node: v });
    });
    return;
  }
  const used = new Set<number>();
  for (const v of values) {
    const i = t.findIndex((tpl, j) => !used.has(j) && matchesValue(tpl, v));
    if (i === -1) out.push({ ...base, change: 'added', origin: null, node: v });
    else used.add(i);
  }
  t.forEach((tpl, j) => {
    if (!used.has(j)) out.push({ ...base, change: 'removed', origin: renderValue(tpl), node: null });
  });
}

export function diffFeatures(learned: Learned, node: readonly Feature[]): FeatureChange[] {
  const out: FeatureChange[] = [];
  const g = group(node);
  for (const [k, l] of learned) diffKey(l, (g.get(k) ?? []).map((f) => f.value), out);
  for (const [k, fs] of g) {
    if (learned.has(k)) continue;
    for (const f of fs) out.push({ kind: f.kind, path: f.path, change: 'added', origin: null, node: f.value });
  }
  // The attributes of an element that is itself new say nothing more than that element.
  const addedElements = new Set(out.filter((c) => c.change === 'added' && c.kind !== 'attr').map((c) => c.path));
  return out.filter((c) => !(c.kind === 'attr' && c.change === 'added' && addedElements.has(c.path.slice(0, c.path.lastIndexOf('@')))));
}

const digits = (s: string | null) => (s ?? '').replace(/[^0-9]/g, '');

function severityOf(c: FeatureChange): Severity {
  const foreign = c.node !== null && isForeign(c.node.replace(/^\S+ /, ''));
  switch (c.kind) {
    case 'script':
      return c.change === 'removed' ? 'medium' : foreign ? 'critical' : 'high';
    case 'form':
      return c.change === 'removed' ? 'medium' : foreign ? 'critical' : 'high';
    case 'iframe':
    case 'object':
      return c.change === 'removed' ? 'medium' : foreign ? 'critical' : 'high';
    case 'link':
    case 'resource':
      return foreign ? 'high' : 'medium';
    case 'meta_refresh':
    case 'base':
    case 'handler':
    case 'noscript':
      return 'high';
    case 'attr':
      return attrSeverity(c);
    case 'text':
      return c.change === 'changed' && digits(c.origin) !== digits(c.node) ? 'high' : 'medium';
    default:
      return 'medium';
  }
}

/** Attributes that carry what a visitor submits or a script runs weigh most. */
function attrSeverity(c: FeatureChange): Severity {
  const name = c.path.slice(c.path.lastIndexOf('@') + 1);
  if (/^(value|type|content|data-.*|href|src|action|name|pattern)$/.test(name) || /https?:\/\//.test(c.node ?? '')) return 'high';
  return 'medium';
}

const labels: Record<FeatureKind, string> = {
  script: 'script', iframe: 'iframe', object: 'embedded object', form: 'form', link: 'link', resource: 'resource', meta_refresh: 'meta refresh',
  meta: 'meta http-equiv', base: 'base URL', handler: 'event handler', style: 'style block', style_attr: 'inline style', text: 'text',
  attr: 'attribute', noscript: 'noscript content',
};

export function changeFindings(changes: readonly FeatureChange[], maxPerKind = 10): Finding[] {
  const perKind = new Map<string, number>();
  const out: Finding[] = [];
  for (const c of changes) {
    const kind = `${c.kind}_${c.change}`;
    const n = perKind.get(kind) ?? 0;
    perKind.set(kind, n + 1);
    if (n >= maxPerKind) continue;
    const shown = clip(c.change === 'removed' ? c.origin : c.node, 120);
    const label = c.kind === 'attr' ? `attribute ${c.path.slice(c.path.lastIndexOf('@') + 1)}` : labels[c.kind];
    out.push({ kind, severity: severityOf(c), summary: `${label} ${c.change}: ${shown ?? ''}`, origin: clip(c.origin), node: clip(c.node) });
  }
  return out;
}
