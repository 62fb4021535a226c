import { mergeSlot, renderSlot, slotMatches, type Slot } from './code-template.js';

// Templates for URL-valued features (script and iframe sources, link and form targets,
// resources), optionally behind a word such as a form method or a link rel. The host is never
// masked: hosts the origin was seen using at one place are listed, and only when the origin
// itself rotates between sibling hosts of one domain (ads1.adnet.example, ads2.adnet.example) is
// that domain licensed. Query values and path segments the origin varies (cache-busters, ids)
// are masked. Pure.

export interface UrlTemplate {
  shape: 'url';
  /** The word before the URL ("post", "stylesheet"), if any. */
  prefix: Slot;
  /** scheme://host of absolute URLs; '' for same-site paths. */
  hosts: string[];
  /** Registrable domains the origin rotates hosts under. */
  domains: string[];
  /** Path segments; null when the origin varies the number of segments. */
  path: Slot[] | null;
  /** Query parameters by name (values masked where they vary). */
  query: Array<[string, Slot]>;
  hash: Slot;
}

interface ParsedUrl {
  prefix: string;
  host: string;
  path: string[];
  query: Array<[string, string]>;
  hash: string;
}

/** Shaped like data (ids, numbers, nonces), not a word. */
export function isDataToken(token: string): boolean {
  return /\d/.test(token) || /^[A-Za-z0-9_-]{16,}$/.test(token);
}

// The same URLs come back in every sample and every check: parse each once (bounded cache).
const parsed = new Map<string, ParsedUrl>();

function parse(value: string): ParsedUrl {
  const hit = parsed.get(value);
  if (hit) return hit;
  const p = parseUncached(value);
  if (parsed.size > 5000) parsed.clear();
  parsed.set(value, p);
  return p;
}

function parseUncached(value: string): ParsedUrl {
  const space = value.lastIndexOf(' ');
  const prefix = space === -1 ? '' : value.slice(0, space);
  const raw = space === -1 ? value : value.slice(space + 1);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw);
  if (scheme && !/^https?$/i.test(scheme[1] ?? '')) {
    // javascript:, data:, mailto: … one opaque token (javascript: is code: never masked).
    return { prefix, host: `${(scheme[1] ?? '').toLowerCase()}:`, path: [raw.slice(scheme[0].length)], query: [], hash: '' };
  }
  try {
    const u = new URL(raw, 'http://same-site.invalid/');
    const host = u.host === 'same-site.invalid' ? '' : `${u.protocol}//${u.host}`;
    const query = [...u.searchParams.entries()];
    return { prefix, host, path: u.pathname.split('/').slice(1), query, hash: u.hash };
  } catch {
    return { prefix, host: raw, path: [], query: [], hash: '' };
  }
}

/** The registrable domain, roughly (two labels, three under a short second-level label such as co.uk). */
export function registrableDomain(host: string): string {
  const name = host.replace(/^[a-z]+:\/\//i, '').replace(/:\d+$/, '');
  if (/^[\d.]+$/.test(name) || name.includes('[')) return name;
  const labels = name.split('.');
  const n = labels.length >= 3 && (labels[labels.length - 2] ?? '').length <= 3 && (labels[labels.length - 1] ?? '').length === 2 ? 3 : 2;
  return labels.slice(-n).join('.');
}

export function exactUrl(value: string): UrlTemplate {
  const p = parse(value);
  return { shape: 'url', prefix: p.prefix, hosts: [p.host], domains: [], path: p.path, query: p.query, hash: p.hash };
}

function hostLicensed(t: UrlTemplate, host: string): boolean {
  return t.hosts.includes(host) || (host !== '' && t.domains.includes(registrableDomain(host)));
}

export function generalizeUrl(t: UrlTemplate, value: string): UrlTemplate {
  const p = parse(value);
  const hosts = t.hosts.includes(p.host) ? t.hosts : [...t.hosts, p.host];
  const domains = [...t.domains];
  // Sibling hosts under one domain: the origin rotates them (an ad network's shards).
  for (const h of t.hosts) {
    const d = registrableDomain(p.host);
    if (h !== p.host && h !== '' && p.host !== '' && registrableDomain(h) === d && !domains.includes(d)) domains.push(d);
  }
  const path = t.path && t.path.length === p.path.length ? t.path.map((s, i) => mergeSlot(s, p.path[i] ?? '', isDataToken(p.path[i] ?? ''))) : null;
  const names = new Set([...t.query.map(([k]) => k), ...p.query.map(([k]) => k)]);
  const query: Array<[string, Slot]> = [...names].map((name) => {
    const a = t.query.find(([k]) => k === name);
    const b = p.query.find(([k]) => k === name);
    // A parameter that comes and goes, or whose value changes, is the origin's own variance.
    if (!a || !b) return [name, null];
    return [name, slotMatches(a[1], b[1]) ? a[1] : null];
  });
  return { shape: 'url', prefix: mergeSlot(t.prefix, p.prefix, false), hosts, domains, path, query, hash: mergeSlot(t.hash, p.hash, isDataToken(p.hash)) };
}

export function matchesUrl(t: UrlTemplate, value: string): boolean {
  const p = parse(value);
  if (!slotMatches(t.prefix, p.prefix) || !hostLicensed(t, p.host) || !slotMatches(t.hash, p.hash)) return false;
  if (t.path && (t.path.length !== p.path.length || !t.path.every((s, i) => slotMatches(s, p.path[i] ?? '')))) return false;
  for (const [name, v] of p.query) {
    const known = t.query.find(([k]) => k === name);
    if (!known || !slotMatches(known[1], v)) return false;
  }
  // A parameter the origin always sends with one value must be there (a dropped integrity hash).
  return t.query.every(([name, s]) => s === null || p.query.some(([k]) => k === name));
}

export function renderUrl(t: UrlTemplate): string {
  const host = t.hosts.length === 1 ? (t.hosts[0] ?? '') : `⟨${[...t.hosts, ...t.domains.map((d) => `*.${d}`)].join('|')}⟩`;
  const path = t.path ? `/${t.path.map(renderSlot).join('/')}` : '/⟨varies⟩';
  const query = t.query.length ? `?${t.query.map(([k, v]) => `${k}=${renderSlot(v)}`).join('&')}` : '';
  const prefix = renderSlot(t.prefix);
  return `${prefix ? `${prefix} ` : ''}${host}${path}${query}${renderSlot(t.hash)}`;
}

export function isExactUrl(t: UrlTemplate): boolean {
  return typeof t.prefix === 'string' && t.hosts.length === 1 && t.domains.length === 0 && t.path !== null
    && t.path.every((s) => typeof s === 'string') && t.query.every(([, s]) => typeof s === 'string') && typeof t.hash === 'string';
}

/**
 * Same place, same target: a URL that could be a variant of this template (pools merge these).
 * A sibling host of one the template has (same registrable domain) is the same target on
 * another shard: merging them is what licenses the domain.
 */
export function sameUrlFamily(t: UrlTemplate, value: string): boolean {
  const p = parse(value);
  const sibling = p.host !== '' && t.hosts.some((h) => h !== '' && registrableDomain(h) === registrableDomain(p.host));
  return (hostLicensed(t, p.host) || sibling) && t.path !== null && t.path.length === p.path.length && slotMatches(t.path[0] ?? '', p.path[0] ?? '');
}
