import { decodeBody, sha256Hex } from '../integrity/decode.js';
import { diffExcerpt } from '../integrity/diff-excerpt.js';
import type { HashEntry } from '../integrity/hash-store.js';
import type { RouteNode } from '../registry/types.js';
import type { Exchange } from './exchange.js';
import { serveFromOrigin, type OriginBodyReport } from './origin-upstream.js';

const EVIDENCE_BYTES = 256 * 1024;

/** The origin copy's content (decoded) and its hash; null when it was cut, too large or undecodable. */
function originContent(ex: Exchange, r: OriginBodyReport): { sha256: string; bytes: Buffer } | null {
  if (!r.complete || r.status !== 200 || r.size > ex.rt.limits.bufferLimit) return null;
  const bytes = decodeBody(r.head, r.encoding, ex.rt.limits.bufferLimit);
  return bytes ? { sha256: sha256Hex(bytes), bytes } : null;
}

/** Serves the origin's bytes and learns the file's hash from them (first request of a static file). */
export function serveAndLearn(ex: Exchange): Promise<void> {
  const { rt, site, url } = ex;
  return serveFromOrigin(ex, {
    outcome: 'origin_learning',
    // The whole body (up to the buffer limit) is kept, to hash its decoded content.
    collect: rt.limits.bufferLimit,
    onBody: (r) => {
      if (!r.complete || r.status !== 200 || ex.method !== 'GET') return;
      const learnedAt = rt.now();
      if (r.size > rt.limits.bufferLimit) return rt.hashes.learn(site.id, url, { kind: 'too-large', learnedAt });
      const content = originContent(ex, r);
      if (content) rt.hashes.learn(site.id, url, { kind: 'hash', sha256: content.sha256, etag: r.etag, learnedAt, source: 'origin' });
    },
  });
}

/**
 * A node's static bytes did not match: the visitor gets the origin's copy. If the origin's
 * fresh copy matches the node (the file changed at the origin), our hash was stale: no strike.
 * Otherwise the node altered the file: a strike with the evidence.
 */
export function serveMismatchFromOrigin(ex: Exchange, node: RouteNode, nodeBody: Buffer, nodeSha: string, expected: Extract<HashEntry, { kind: 'hash' }>): Promise<void> {
  const { rt, site, url } = ex;
  rt.metrics.integrityMismatches.inc();
  return serveFromOrigin(ex, {
    outcome: 'origin_integrity',
    collect: rt.limits.bufferLimit,
    onBody: (r: OriginBodyReport) => {
      const content = originContent(ex, r);
      if (!content) {
        strike(ex, node, nodeBody, nodeSha, expected.sha256, null, null);
        return;
      }
      rt.hashes.learn(site.id, url, { kind: 'hash', sha256: content.sha256, etag: r.etag, learnedAt: rt.now(), source: 'origin' });
      if (content.sha256 !== nodeSha) strike(ex, node, nodeBody, nodeSha, expected.sha256, content.sha256, content.bytes.subarray(0, EVIDENCE_BYTES));
    },
  });
}

function strike(ex: Exchange, node: RouteNode, nodeBody: Buffer, nodeSha: string, expectedSha: string, originSha: string | null, originHead: Buffer | null): void {
  const { rt, site, url } = ex;
  const meta = {
    url, host: site.host, expectedSha256: expectedSha, nodeSha256: nodeSha, originSha256: originSha,
    diff: originHead ? diffExcerpt(originHead, nodeBody.subarray(0, EVIDENCE_BYTES)) : null,
  };
  rt.strikes.push({
    nodeId: node.id, kind: 'integrity_mismatch',
    reason: `static bytes of ${url.slice(0, 300)} do not match the origin (sha256 ${nodeSha.slice(0, 16)}… ≠ ${(originSha ?? expectedSha).slice(0, 16)}…)`,
    evidence: { kind: 'integrity_mismatch', contentType: 'application/octet-stream', body: nodeBody.subarray(0, EVIDENCE_BYTES), meta },
  });
  rt.metrics.strikes.inc({ kind: 'integrity_mismatch' });
}
