import { createHmac, timingSafeEqual } from 'node:crypto';

// Requests from a balancer to a volunteer node carry a signature only balancers can make, so a
// node serves (and fills its cache for) nobody else: a stranger on the Internet can neither use
// a node as a free proxy nor poison its cache. Each node has its own key, derived from one
// secret the balancers share (settings `node_request_secret`), so every balancer can sign for
// every node without a per-node table, and one node's key tells nothing about another's. The
// control plane hands a node its key when it registers and in heartbeat answers.

export const NODE_REQUEST_AUTH_HEADER = 'x-verity-request-auth';
export const NODE_REQUEST_SECRET_SETTING = 'node_request_secret';
/** Largest clock difference accepted between balancer and node (seconds). */
export const NODE_REQUEST_SKEW_S = 60;

export interface SignedRequestParts {
  method: string;
  /** The site's host name, as sent in Host. */
  host: string;
  /** Request target: path and query. */
  target: string;
  /** sha256 (hex) of the request body, '' when there is none. */
  bodySha256?: string;
}

/** The key of one node (hex), derived from the balancers' shared secret. */
export function nodeRequestKey(secret: string, nodeId: string): string {
  return createHmac('sha256', secret).update(`verity-node-request-key\n${nodeId}`).digest('hex');
}

function mac(key: string, t: number, p: SignedRequestParts): Buffer {
  return createHmac('sha256', key)
    .update(`v1\n${t}\n${p.method.toUpperCase()}\n${p.host.toLowerCase()}\n${p.target}\n${p.bodySha256 ?? ''}`)
    .digest();
}

/** Header value: `v1,t=<unix seconds>,s=<hex>`. */
export function signNodeRequest(key: string, parts: SignedRequestParts, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  return `v1,t=${t},s=${mac(key, t, parts).toString('hex')}`;
}

export type NodeRequestCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'skew' | 'bad-signature' };

export function verifyNodeRequest(key: string, header: string | string[] | undefined, parts: SignedRequestParts, nowMs: number): NodeRequestCheck {
  if (header === undefined) return { ok: false, reason: 'missing' };
  if (typeof header !== 'string') return { ok: false, reason: 'malformed' };
  const m = /^v1,t=(\d{1,12}),s=([0-9a-f]{64})$/.exec(header);
  if (!m) return { ok: false, reason: 'malformed' };
  const t = Number(m[1]);
  if (Math.abs(nowMs / 1000 - t) > NODE_REQUEST_SKEW_S) return { ok: false, reason: 'skew' };
  const given = Buffer.from(m[2] ?? '', 'hex');
  const expected = mac(key, t, parts);
  return given.length === expected.length && timingSafeEqual(given, expected) ? { ok: true } : { ok: false, reason: 'bad-signature' };
}
