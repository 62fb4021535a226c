import { VerityError, isVerityError } from '../common/errors.js';
import type { NodeStanding } from '../common/protocol/node-api.js';
import type { BalancerClient, RegisterParams } from './balancer-client.js';
import { isEnrolled, recordEnrollment } from './enrollment.js';
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

async function registerOnce(o: EnrollOptions): Promise<NodeStanding> {
  const enrolled = await isEnrolled(o.dataDir, o.balancer, o.nodeId);
  if (!enrolled && !o.token) {
    try {
      return await o.client.register({ ...o.params, token: undefined });
    } catch (err) {
      if (isVerityError(err, 'NODE_ERR_TOKEN_REJECTED')) throw new VerityError('NODE_ERR_TOKEN_REJECTED', `this node is not enrolled at ${o.balancer} yet: start it with --token (a join token from the site's admins)`);
      throw err;
    }
  }
  try {
    return await o.client.register({ ...o.params, token: o.token });
  } catch (err) {
    // A known node restarted with its (spent) token still on the command line: carry on.
    if (enrolled && o.token && isVerityError(err, 'NODE_ERR_TOKEN_REJECTED')) {
      o.checklist.info(`note: the join token was not accepted again (already used?); continuing with this node's enrollment`);
      return o.client.register({ ...o.params, token: undefined });
    }
    throw err;
  }
}

/** Registers (retrying while the balancer is unreachable) and remembers the enrollment. */
export async function enroll(o: EnrollOptions): Promise<NodeStanding> {
  for (let attempt = 0; ; attempt++) {
    try {
      const standing = await registerOnce(o);
      await recordEnrollment(o.dataDir, o.balancer, o.nodeId, new Date(o.now()));
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
