import type { FastifyReply, FastifyRequest } from 'fastify';
import { acceptCounter } from '../../common/db/queries/node-registry.js';
import { findDisclosedEvidence } from '../../common/db/queries/node-standing.js';
import { queueRecheck } from '../../common/db/queries/recheck.js';
import { disclosedUntil } from '../../common/domain/disclosure.js';
import { evidenceRequest, recheckRequest, type RecheckResponse, type SignedKind } from '../../common/protocol/node-api.js';
import { ApiError, authenticateSigned, refusal } from './node-api-auth.js';
import type { Ctx } from './node-api.js';

// The two requests behind the volunteer's status page: "request re-check" (queues an audit,
// rate-limited) and the evidence of a penalty (only once the audit-secrecy delay has passed).
// Both are signed and spend a counter like heartbeats, so a captured request cannot be replayed.

export interface RecheckOptions {
  /** At most one re-check per node this often. */
  intervalMs: number;
  /** The audit runs after a random delay up to this, like any other audit (a node cannot tell which request it is). */
  maxDelayMs: number;
  random: () => number;
}

async function authenticated<T extends { nodeId: string; counter: number; timestamp: number }>(ctx: Ctx, kind: SignedKind, request: FastifyRequest, schema: Parameters<typeof authenticateSigned<T>>[4]): Promise<T> {
  const env = await authenticateSigned(ctx.deps, ctx.keys, kind, request, schema);
  if (!(await acceptCounter(ctx.deps.pool, env.nodeId, env.counter))) throw await refusal(ctx.deps, kind, env);
  return env;
}

function cutoff(ctx: Ctx, nodeId: string, nowMs: number): Date {
  return new Date(disclosedUntil(nodeId, nowMs, ctx.deps.auditSecret, ctx.secrecy));
}

export async function recheck(ctx: Ctx, request: FastifyRequest): Promise<RecheckResponse> {
  const env = await authenticated(ctx, 'recheck', request, recheckRequest);
  const nowMs = ctx.deps.now();
  const o = ctx.recheck;
  const outcome = await queueRecheck(ctx.deps.pool, {
    nodeId: env.nodeId, auditId: env.auditId, disclosedBefore: cutoff(ctx, env.nodeId, nowMs), now: new Date(nowMs), intervalMs: o.intervalMs,
    runAfter: new Date(nowMs + Math.floor(o.random() * o.maxDelayMs)),
  });
  if (outcome.kind === 'rate_limited') throw new ApiError('NODE_ERR_RATE_LIMITED', `one re-check per ${Math.round(o.intervalMs / 60_000)} min: the next one is allowed at ${outcome.nextAllowedAt.toISOString()}`);
  if (outcome.kind === 'unknown_audit') throw new ApiError('NODE_ERR_NOT_FOUND', 'no disclosed penalty of this node has that audit');
  if (outcome.kind === 'no_site') throw new ApiError('NODE_ERR_NOT_FOUND', 'this node serves no site yet');
  ctx.deps.log.info({ node: { id: env.nodeId, audit: outcome.auditId, url: outcome.url } }, 'volunteer asked for a re-check');
  return { queued: true, url: outcome.url, site: outcome.host, nextAllowedAt: outcome.nextAllowedAt.toISOString() };
}

export async function evidence(ctx: Ctx, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const env = await authenticated(ctx, 'evidence', request, evidenceRequest);
  const found = await findDisclosedEvidence(ctx.deps.pool, env.nodeId, env.evidenceId, cutoff(ctx, env.nodeId, ctx.deps.now()));
  if (!found) throw new ApiError('NODE_ERR_NOT_FOUND', 'no disclosed penalty of this node has that evidence');
  // Evidence is data, never a page: a hostile fragment must not run anywhere it is shown.
  return reply.header('content-type', found.contentType).header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox").header('cache-control', 'no-store').send(found.body);
}
