import { VerityError, isVerityError } from '../common/errors.js';
import type { NodeAnswer } from '../common/protocol/node-api.js';
import type { BalancerClient, RegisterParams } from './balancer-client.js';
import { findEnrollment, recordEnrollment, tokenFingerprint } from './enrollment.js';
import type { Checklist } from './preflight.js';

// Registration at start: with the join token the first time, without it once the balancer
// knows this key (the token is one-use). An unreachable balancer is retried with backoff; any
// other refusal ends the program with one clear line.

export interface EnrollOptions {
  client: BalancerClient;
  balancer: string;
  dataDir: string;
  nodeId: string;
  params: Omit<RegisterParams, 'token'>;
  token: string | undefined;
  checklist: Checklist;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
  signal?: AbortSignal;
  maxDelayMs?: number;
}

export function backoffMs(attempt: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, 1000 * 2 ** Math.min(attempt, 16));
}

/** One attempt; returns the standing and the token it spent, if any. */
async function registerOnce(o: EnrollOptions): Promise<{ standing: NodeAnswer; spent: string | undefined }> {
  const enrollment = await findEnrollment(o.dataDir, o.balancer, o.nodeId);
  const alreadySpent = o.token !== undefined && (enrollment?.tokens.includes(tokenFingerprint(o.token)) ?? false);
  // A known node restarting with its spent token still on the command line does not present it again.
  const token = alreadySpent ? undefined : o.token;
  try {
    return { standing: await o.client.register({ ...o.params, token }), spent: token };
  } catch (err) {
    if (!isVerityError(err, 'NODE_ERR_TOKEN_REJECTED')) throw err;
    if (!token) throw new VerityError('NODE_ERR_TOKEN_REJECTED', `this node is not enrolled at ${o.balancer} yet: start it with --token (a join token from the site's admins)`);
    // The balancer may know this key already (e.g. enrollment.json was lost): try without the token.
    const known = await o.client.register({ ...o.params, token: undefined }).catch((e: unknown) => {
      if (isVerityError(e, 'NODE_ERR_TOKEN_REJECTED')) throw err;
      throw e;
    });
    o.checklist.info('note: the join token was refused (used up or expired?); continuing with the sites this node already serves');
    return { standing: known, spent: undefined };
  }
}

/** Registers (retrying while the balancer is unreachable) and remembers the enrollment. */
export async function enroll(o: EnrollOptions): Promise<NodeAnswer> {
  for (let attempt = 0; ; attempt++) {
    try {
      const { standing, spent } = await registerOnce(o);
      await recordEnrollment(o.dataDir, o.balancer, o.nodeId, new Date(o.now()), spent);
      return standing;
    } catch (err) {
      if (!isVerityError(err, 'NODE_ERR_BALANCER_UNREACHABLE') || o.signal?.aborted) throw err;
      const delay = backoffMs(attempt, o.maxDelayMs ?? 60_000);
      o.checklist.fail('balancer reachable', `${err.message}; retrying in ${Math.round(delay / 1000)} s`);
      await o.sleep(delay, o.signal);
      if (o.signal?.aborted) throw err;
    }
  }
}
