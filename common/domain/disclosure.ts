import { createHmac } from 'node:crypto';

// The audit-secrecy delay: what a node is told about its own trust (heartbeat and register
// answers, its status page, the evidence it may fetch) is its history up to a cutoff that lags
// the present by a randomised delay, in batches. A node therefore cannot tie a score change to
// the request that caused it, so it cannot learn which requests were audits. Every balancer
// computes the same cutoff from the shared secret, the node id and the clock: no state. Pure.

export interface SecrecyPolicy {
  /** Trust events are released in batches covering this much time each (0: no delay at all, tests only). */
  batchMs: number;
  /** A batch is released at least this long after it closes… */
  minDelayMs: number;
  /** …plus a random share of this (at most batchMs, so batches are released in order). */
  jitterMs: number;
}

/** An event becomes visible to its node 10 to 60 minutes after it happened. */
export const defaultSecrecyPolicy: SecrecyPolicy = { batchMs: 30 * 60_000, minDelayMs: 10 * 60_000, jitterMs: 20 * 60_000 };

/** A deterministic draw in [0, 1) that only holders of the secret can compute. */
function draw(secret: string, nodeId: string, label: string): number {
  const mac = createHmac('sha256', secret).update(`verity-disclosure-v1|${nodeId}|${label}`).digest();
  return mac.readUInt32BE(0) / 0x1_0000_0000;
}

export function validateSecrecyPolicy(p: SecrecyPolicy): string | null {
  if (![p.batchMs, p.minDelayMs, p.jitterMs].every((v) => Number.isFinite(v) && v >= 0)) return 'secrecy delays must be non-negative numbers';
  if (p.batchMs > 0 && p.jitterMs > p.batchMs) return 'the secrecy jitter must not exceed the batch length (batches would be released out of order)';
  return null;
}

/**
 * The time before which node `nodeId`'s trust history may be shown to it at `nowMs`: the end of
 * the latest batch already released (exclusive). Events at or after it stay hidden.
 */
export function disclosedUntil(nodeId: string, nowMs: number, secret: string, policy: SecrecyPolicy = defaultSecrecyPolicy): number {
  if (policy.batchMs <= 0) return nowMs + 1;
  const B = policy.batchMs;
  // Each node's batches start at its own phase, so nodes are not all told at the same instants.
  const phase = draw(secret, nodeId, 'phase') * B;
  const endOf = (k: number) => phase + (k + 1) * B;
  const releaseOf = (k: number) => endOf(k) + policy.minDelayMs + draw(secret, nodeId, `batch:${k}`) * policy.jitterMs;
  // The latest batch that closed at least minDelay ago; if its jitter holds it back, the one
  // before it is out for sure (jitter ≤ batch length).
  const k = Math.floor((nowMs - policy.minDelayMs - phase) / B) - 1;
  return releaseOf(k) <= nowMs ? endOf(k) : endOf(k - 1);
}

/** Whether something that happened at `atMs` may be shown to the node now. */
export function isDisclosed(nodeId: string, atMs: number, nowMs: number, secret: string, policy: SecrecyPolicy = defaultSecrecyPolicy): boolean {
  return atMs < disclosedUntil(nodeId, nowMs, secret, policy);
}
