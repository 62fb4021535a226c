import type { Observation, Publication, PublicationMode } from './types.js';

// How one more origin answer changes what we know of a URL. Pure. A URL is stable once the
// origin has given the same bytes twice in a row; a stable URL whose bytes change is pending
// again (a deploy), and one that keeps changing is dynamic.

const HISTORY = 8;

export type Change = 'new' | 'confirmed' | 'repeated' | 'changed';

export function sameAnswer(a: Observation, b: Observation): boolean {
  return a.status === b.status && a.sha256 === b.sha256 && a.encoding === b.encoding;
}

function modeAfterChange(previous: PublicationMode): PublicationMode {
  // A stable URL that changed once was most likely updated; one that changes again before it is
  // confirmed changes on its own.
  return previous === 'stable' ? 'pending' : 'dynamic';
}

function headerValue(v: string | string[] | undefined): string {
  return v === undefined ? '' : Array.isArray(v) ? v.join(', ') : v;
}

/** Header names whose values differ between two answers (names in either). */
function changedHeaders(a: Observation['headers'], b: Observation['headers']): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((n) => headerValue(a[n]) !== headerValue(b[n]));
}

export function evolve(prev: Publication | undefined, next: Pick<Publication, 'siteId' | 'url' | 'variant' | 'source'>, obs: Observation): { pub: Publication; change: Change } {
  if (!prev) {
    // A manifest vouches for the bytes already: its first matching origin answer is enough.
    const mode: PublicationMode = next.source === 'manifest' ? 'stable' : 'pending';
    return { pub: { ...next, mode, current: obs, repeats: 1, history: [], unstableHeaders: [] }, change: 'new' };
  }
  if (sameAnswer(prev.current, obs)) {
    const confirmed = prev.mode !== 'stable';
    // Headers the origin changes while the bytes stay the same (per-request ids in a CSP
    // report-uri, say) say nothing about a node that relays another of their values.
    const unstableHeaders = [...new Set([...prev.unstableHeaders, ...changedHeaders(prev.current.headers, obs.headers)])].slice(0, 64);
    return {
      pub: { ...prev, source: next.source === 'manifest' ? 'manifest' : prev.source, mode: 'stable', current: obs, repeats: prev.repeats + 1, unstableHeaders },
      change: confirmed ? 'confirmed' : 'repeated',
    };
  }
  const history = prev.history.includes(prev.current.sha256) ? prev.history : [prev.current.sha256, ...prev.history].slice(0, HISTORY);
  const mode = next.source === 'manifest' ? 'stable' : modeAfterChange(prev.mode);
  return { pub: { ...prev, source: next.source, mode, current: obs, repeats: 1, history, unstableHeaders: [] }, change: 'changed' };
}

/** A 304 to our revalidation: the same bytes, with the origin's fresher headers and timing (RFC 9111 §4.3.4). */
export function revalidated(prev: Publication, headers: Observation['headers'], timing: Pick<Observation, 'lifetimeMs' | 'initialAgeMs' | 'receivedAt'>): Publication {
  const merged = { ...prev.current.headers };
  for (const [name, value] of Object.entries(headers)) {
    // Framing and representation stay the stored response's.
    if (name === 'content-length' || name === 'content-encoding' || name === 'content-type' || name === 'content-range') continue;
    merged[name] = value;
  }
  return { ...prev, current: { ...prev.current, headers: merged, ...timing } };
}
