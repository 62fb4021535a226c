import { diffExcerpt } from '../integrity/diff-excerpt.js';
import { sameAnswer } from '../publication/evolve.js';
import { normaliseEncoding } from '../publication/learn.js';
import type { Observation } from '../publication/types.js';
import { countFailure } from './choose.js';
import { OriginRelay, type OriginOutcome, type RelayHooks } from './origin-relay.js';
import { teach } from './teach.js';
import type { Visit } from './visit.js';

// When nodes could not give a visitor a verified answer, the origin does. Its answer then also
// judges the nodes, fairly:
// - a node that failed (refused, slow, 5xx, cut) counts against its availability only when the
//   origin itself answered well and in time: an origin that is down or slow is nobody's fault;
// - a node whose bytes did not match is struck only when the origin still serves exactly what we
//   verified against and the node's bytes are no version the origin ever served. A newer or
//   older genuine copy (a deploy, a cache that has not caught up) is no tampering.

export const EVIDENCE_BYTES = 256 * 1024;

export function fallBackToOrigin(v: Visit, outcome: string): void {
  // The origin streams: nothing is held any more.
  v.rt.budget.give(v.reserved);
  v.reserved = 0;
  new OriginRelay(v, {
    outcome, observe: v.method === 'GET', keepHead: v.judging ? EVIDENCE_BYTES : 0, normaliseEncoding: true, hooks: fallbackHooks,
  }).start();
}

const fallbackHooks: RelayHooks = {
  finished(v, out) {
    const fresh = teach(v, out);
    const inTime = out.responseTimeMs - out.requestTimeMs < v.rt.limits.attemptTimeoutMs;
    settleFailures(v, out.status < 500 && inTime);
    if (v.judging) judge(v, out, fresh?.current ?? null);
  },
  failed(v, failure) {
    settleFailures(v, false);
    if (v.judging) {
      v.rt.log.warn({ nodeId: v.judging.node.id, url: v.url.slice(0, 300), failure }, 'node bytes did not match, and the origin could not be asked: no strike');
      v.judging = null;
    }
  },
};

function settleFailures(v: Visit, originWasFine: boolean): void {
  if (v.failures === null) return;
  if (originWasFine) for (const f of v.failures) countFailure(v, f.node, f.failure);
  v.failures = null;
}

function judge(v: Visit, out: OriginOutcome, fresh: Observation | null): void {
  const j = v.judging;
  v.judging = null;
  if (!j) return;
  const { rt, site, url } = v;
  const originEncoding = normaliseEncoding(out.headers['content-encoding']);
  const nodeHasFresh = out.digest !== null && out.digest.sha256 === j.sha256 && out.status === j.status && originEncoding === j.encoding;
  const nodeHasOld = j.expected.history.includes(j.sha256);
  if (nodeHasFresh || nodeHasOld) {
    // A genuine version: ours was stale, or the node's is. Its cache drops the URL.
    rt.metrics.countRequest('stale_genuine');
    if (nodeHasOld) rt.invalidator.push(site, [url], [j.node]);
    return;
  }
  if (fresh === null || !sameAnswer(fresh, j.expected.current)) {
    rt.log.info({ nodeId: j.node.id, url: url.slice(0, 300) }, 'node bytes did not match, but the origin changed meanwhile: no strike');
    rt.invalidator.push(site, [url], [j.node]);
    return;
  }
  const meta = {
    url, host: site.host, expectedSha256: j.expected.current.sha256, nodeSha256: j.sha256, originSha256: fresh.sha256,
    nodeStatus: j.status, nodeEncoding: j.encoding,
    diff: out.head ? diffExcerpt(out.head, j.body.subarray(0, EVIDENCE_BYTES)) : null,
  };
  rt.strikes.push({
    nodeId: j.node.id, kind: 'integrity_mismatch',
    reason: `bytes of ${url.slice(0, 300)} do not match the origin's (sha256 ${j.sha256.slice(0, 16)}… ≠ ${fresh.sha256.slice(0, 16)}…)`,
    evidence: { kind: 'integrity_mismatch', contentType: 'application/octet-stream', body: j.body.subarray(0, EVIDENCE_BYTES), meta },
  });
  rt.metrics.strikes.inc({ kind: 'integrity_mismatch' });
}
