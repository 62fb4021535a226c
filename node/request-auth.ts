import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { NODE_REQUEST_AUTH_HEADER, verifyNodeRequest } from '../common/protocol/node-request-auth.js';

// A node answers the balancer only: every request for a site carries the balancer's signature
// for this node (common/protocol/node-request-auth.ts), over method, host, target and the body's
// sha256, stamped within 60 s. Anything else gets 401 and nothing is fetched or stored, so a
// stranger can neither use the node as a proxy nor fill its cache.

export type AuthOutcome = { ok: true; body: Buffer } | { ok: false; status: 401 | 413; reason: string };

/** Reads at most `maxBytes` of the request body; null when it is longer. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export interface AuthInput {
  req: IncomingMessage;
  host: string;
  /** This node's request key; null until the balancer gave one. */
  key: string | null;
  nowMs: number;
  /** Read and sign over the body (the invalidation endpoint); other requests have none. */
  bodyLimit: number | null;
}

export async function authenticate(i: AuthInput): Promise<AuthOutcome> {
  if (i.key === null) return { ok: false, status: 401, reason: 'this node has no request key yet (not registered)' };
  let body: Buffer = Buffer.alloc(0);
  if (i.bodyLimit !== null) {
    const read = await readBody(i.req, i.bodyLimit).catch(() => null);
    if (read === null) return { ok: false, status: 413, reason: `request body over ${i.bodyLimit} bytes` };
    body = read;
  }
  const bodySha256 = i.bodyLimit === null ? '' : createHash('sha256').update(body).digest('hex');
  const parts = { method: i.req.method ?? 'GET', host: i.host, target: i.req.url ?? '/', bodySha256 };
  const check = verifyNodeRequest(i.key, i.req.headers[NODE_REQUEST_AUTH_HEADER], parts, i.nowMs);
  return check.ok ? { ok: true, body } : { ok: false, status: 401, reason: `balancer signature ${check.reason}` };
}
