import { createHash } from 'node:crypto';
import { z } from 'zod';
import { NODE_INVALIDATE_PATH } from './node-api.js';
import { NODE_REQUEST_AUTH_HEADER, signNodeRequest } from './node-request-auth.js';

// Invalidation (RFC 9111 §4.4): after an unsafe request (POST, PUT, DELETE, PATCH) succeeds at
// the origin, a balancer tells every node serving the site to drop what it stored for the
// request targets concerned. `POST /.well-known/verity/invalidate` with `Host: <site host>` and
// a JSON body, signed like every balancer request, with the body's sha256 in the signature; the
// node drops every stored variant of each target and answers 204.

export const MAX_INVALIDATE_TARGETS = 100;
export const MAX_INVALIDATE_BODY_BYTES = 64 * 1024;

/** A request target as the balancer sends it in GET: path and query, exactly. */
const target = z.string().min(1).max(8192).startsWith('/', 'a target is a path starting with /');

export const invalidateBody = z.object({ targets: z.array(target).min(1).max(MAX_INVALIDATE_TARGETS) });
export type InvalidateBody = z.infer<typeof invalidateBody>;

export interface SignedInvalidation {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** The request a balancer sends one node (key: that node's request key). */
export function signedInvalidation(key: string, host: string, targets: readonly string[], nowMs: number): SignedInvalidation {
  const body = Buffer.from(JSON.stringify({ targets }), 'utf8');
  const bodySha256 = createHash('sha256').update(body).digest('hex');
  const auth = signNodeRequest(key, { method: 'POST', host, target: NODE_INVALIDATE_PATH, bodySha256 }, nowMs);
  return {
    method: 'POST',
    path: NODE_INVALIDATE_PATH,
    headers: { host, 'content-type': 'application/json', 'content-length': String(body.length), [NODE_REQUEST_AUTH_HEADER]: auth },
    body,
  };
}
