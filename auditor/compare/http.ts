import { exact, generalize, matches, render, type Template } from './template.js';
import { clip, type Finding } from './types.js';

// Status, redirect target, security headers, cookies and content type of the node's answer
// against the origin's answers. Header order and case never matter. Pure.

export interface HttpSnapshot {
  status: number;
  headers: ReadonlyArray<readonly [string, string]>;
}

export interface HeaderDiff {
  name: string;
  origin: string | null;
  node: string | null;
}

export const securityHeaders = [
  'content-security-policy', 'content-security-policy-report-only', 'strict-transport-security', 'x-frame-options', 'x-content-type-options',
  'referrer-policy', 'permissions-policy', 'cross-origin-opener-policy', 'cross-origin-embedder-policy', 'cross-origin-resource-policy',
  'access-control-allow-origin', 'access-control-allow-credentials', 'clear-site-data', 'alt-svc', 'refresh', 'content-disposition', 'link',
];

function values(s: HttpSnapshot, name: string): string[] {
  return s.headers.filter(([k]) => k.toLowerCase() === name).map(([, v]) => v.trim());
}

function joined(s: HttpSnapshot, name: string): string | null {
  const v = values(s, name);
  return v.length ? v.join(', ') : null;
}

/** A header as the origin sends it: null when absent in every sample, undefined when it comes and goes. */
function learnHeader(samples: readonly HttpSnapshot[], name: string): Template | null | undefined {
  const vs = samples.map((s) => joined(s, name));
  if (vs.every((v) => v === null)) return null;
  if (vs.some((v) => v === null)) return undefined;
  return vs.slice(1).reduce<Template>((t, v) => generalize(t, v ?? '', 0.9), exact(vs[0] ?? ''));
}

const mime = (ct: string | null) => (ct ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
const cookieNames = (s: HttpSnapshot) => values(s, 'set-cookie').map((c) => c.split('=')[0]?.trim() ?? '');

function location(s: HttpSnapshot, siteHosts: string[]): string | null {
  const loc = joined(s, 'location');
  if (loc === null) return null;
  try {
    const u = new URL(loc, 'http://site.invalid/');
    return u.host === 'site.invalid' || siteHosts.includes(u.host) ? `${u.pathname}${u.search}` : u.href;
  } catch {
    return loc;
  }
}

/**
 * Headers a node cannot give visitors through the balancer: it relays only representation
 * headers from nodes and sets policy headers and cookies itself (docs/balancer.md). Through a
 * balancer, a difference in these is the balancer's, never the node's.
 */
const balancerOwned = new Set([...securityHeaders.filter((h) => h !== 'content-disposition'), 'set-cookie']);

export interface HttpCompareOptions {
  /** The node was reached through the balancer (production), not at its own address. */
  viaBalancer?: boolean;
  /** What the origin said for this URL in earlier audits. */
  history?: { headerVaries(name: string): boolean; headerComesAndGoes(name: string): boolean; cookieNames: ReadonlySet<string> };
}

/** A difference in a header the node does not control: evidence for the admin, no accusation. */
function notTheNodes(f: Finding): Finding {
  return { ...f, kind: 'balancer_header_differs', severity: 'low', summary: `${f.summary} (set by the balancer, not the node)` };
}

export function compareHttp(origin: readonly HttpSnapshot[], node: HttpSnapshot, siteHosts: string[], opts: HttpCompareOptions = {}): { findings: Finding[]; headersDiff: HeaderDiff[] } {
  const owned = (name: string, f: Finding) => (opts.viaBalancer && balancerOwned.has(name) ? notTheNodes(f) : f);
  const findings: Finding[] = [];
  const headersDiff: HeaderDiff[] = [];
  const first = origin[0];
  if (!first) return { findings, headersDiff };
  if (origin.every((o) => o.status === first.status) && node.status !== first.status) {
    findings.push({ kind: 'status_changed', severity: node.status >= 300 && node.status < 400 ? 'critical' : 'high', summary: `status ${node.status} where the origin answers ${first.status}`, origin: String(first.status), node: String(node.status) });
  }
  const oLoc = location(first, siteHosts);
  const nLoc = location(node, siteHosts);
  if (origin.every((o) => location(o, siteHosts) === oLoc) && nLoc !== oLoc) {
    findings.push({ kind: 'redirect_changed', severity: nLoc && /^https?:/.test(nLoc) ? 'critical' : 'high', summary: `redirects to ${clip(nLoc, 120) ?? 'nowhere'} instead of ${clip(oLoc, 120) ?? 'nowhere'}`, origin: oLoc, node: nLoc });
  }
  const oType = mime(joined(first, 'content-type'));
  const nType = mime(joined(node, 'content-type'));
  if (origin.every((o) => mime(joined(o, 'content-type')) === oType) && nType !== oType) {
    findings.push({ kind: 'content_type_changed', severity: 'medium', summary: `content type ${nType || 'none'} instead of ${oType || 'none'}`, origin: oType, node: nType });
    headersDiff.push({ name: 'content-type', origin: oType, node: nType });
  }
  const originCookies = new Set([...origin.flatMap(cookieNames), ...(opts.history?.cookieNames ?? [])]);
  const added = cookieNames(node).filter((c) => !originCookies.has(c));
  if (added.length) {
    findings.push(owned('set-cookie', { kind: 'set_cookie_added', severity: 'high', summary: `sets cookie ${added.join(', ')} the origin never sets`, origin: null, node: clip(joined(node, 'set-cookie')) }));
    headersDiff.push({ name: 'set-cookie', origin: clip(origin.map((o) => joined(o, 'set-cookie')).find((v) => v) ?? null), node: joined(node, 'set-cookie') });
  }
  for (const name of securityHeaders) {
    const t = learnHeader(origin, name);
    if (t === undefined || opts.history?.headerComesAndGoes(name)) continue;
    const nv = joined(node, name);
    // Values are held against a node only where the origin never varies them for this URL; a
    // header the origin always sends still must be there.
    const valueVaries = opts.history?.headerVaries(name) ?? false;
    const same = t === null ? nv === null : nv !== null && (valueVaries || matches(t, nv));
    if (same) continue;
    const ov = t === null ? null : render(t);
    headersDiff.push({ name, origin: ov, node: nv });
    findings.push(owned(name, { kind: 'security_header_changed', severity: 'high', summary: `${name}: ${nv === null ? 'removed' : ov === null ? `added "${clip(nv, 80) ?? ''}"` : `"${clip(nv, 80) ?? ''}"`}`, origin: clip(ov), node: clip(nv) }));
  }
  return { findings, headersDiff };
}
