import type { IncomingHttpHeaders } from 'node:http';
import { learn } from '../publication/learn.js';
import type { Publication } from '../publication/types.js';
import { variantKey } from '../publication/variant.js';
import type { OriginOutcome, RelayHooks } from './origin-relay.js';
import type { Visit } from './visit.js';

// Every complete origin answer to a GET that nodes could serve teaches the balancer about that
// URL: publishable or not (the origin's cache headers), and its bytes' digest. The first visitor
// of a URL is served by the origin and teaches; an answer that is no longer publishable makes
// the URL the origin's again at once.

/** What the origin's answer says about this URL; null when it said nothing we can use. */
export function teach(v: Visit, out: OriginOutcome): Publication | null {
  const { rt, site, url } = v;
  if (v.method !== 'GET') return null;
  if (out.digest === null) {
    if (out.status === 206) learnWhole(v, out);
    return null;
  }
  const learned = learn({ status: out.status, headers: out.headers, ...out.digest, requestTimeMs: out.requestTimeMs, responseTimeMs: out.responseTimeMs });
  if (!learned.ok) {
    if (rt.publications.family(site.id, url)) rt.publications.forget(site.id, url);
    return null;
  }
  const variant = variantKey(learned.varyNames, v.req.headers, v.encoding);
  const source = rt.manifests.vouches(site.id, url, learned.obs) ? 'manifest' : 'origin';
  return rt.publications.observe({ siteId: site.id, url, varyNames: learned.varyNames, variant, source }, learned.obs, rt.now());
}

/**
 * A visitor asked for part of a URL (video players only ever do): if the origin's answer says the
 * whole may be published, it is fetched whole once, in the background, so later ranges can come
 * from nodes.
 */
function learnWhole(v: Visit, out: OriginOutcome): void {
  const probe = learn({ status: 200, headers: out.headers, sha256: '', size: 0, pieces: null, requestTimeMs: out.requestTimeMs, responseTimeMs: out.responseTimeMs });
  if (!probe.ok) return;
  const headers: IncomingHttpHeaders = {};
  for (const name of probe.varyNames) if (name !== 'accept-encoding' && v.req.headers[name] !== undefined) headers[name] = v.req.headers[name];
  v.rt.revalidator.learn(v.site.id, v.url, headers, v.encoding);
}

/** The relay hooks of a request served by the origin in the first place. */
export const teachingHooks: RelayHooks = {
  finished(v, out) {
    teach(v, out);
  },
  failed() {
    // Nothing to learn from an origin that failed.
  },
};

/** Same-site URLs an answer names (Location, Content-Location), as request targets. */
function namedTargets(v: Visit, out: OriginOutcome): string[] {
  const targets = [v.url];
  for (const name of ['location', 'content-location'] as const) {
    const value = out.headers[name];
    if (typeof value !== 'string') continue;
    try {
      const u = new URL(value, `http://${v.site.host}${v.url}`);
      if (u.hostname === v.site.host && !targets.includes(u.pathname + u.search)) targets.push(u.pathname + u.search);
    } catch {
      // Not a URL: nothing to invalidate.
    }
  }
  return targets;
}

/**
 * The relay hooks of an unsafe request (POST, PUT, PATCH, DELETE…): when the origin accepted it,
 * the URL (and the ones its answer names) changed, so every balancer forgets them and every node
 * serving the site drops them (RFC 9111 §4.4).
 */
export const changeHooks: RelayHooks = {
  finished(v, out) {
    if (out.status < 200 || out.status >= 400) return;
    const targets = namedTargets(v, out);
    for (const t of targets) v.rt.publications.forget(v.site.id, t);
    v.rt.invalidator.push(v.site, targets);
  },
  failed() {
    // The origin did not accept it: nothing changed.
  },
};
