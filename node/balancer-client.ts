import { VerityError, describeError, errorCodes, type ErrorCode } from '../common/errors.js';
import {
  SIGNATURE_HEADER, challengeResponse, errorBody, nodeAnswer, paths, recheckResponse, signRequest,
  type HeartbeatStats, type NodeAnswer, type RecheckResponse, type SignedKind,
} from '../common/protocol/node-api.js';
import type { NodeIdentity } from './identity.js';

// The node's side of docs/node-protocol.md. Every failure becomes one VerityError with a code
// the CLI can print as one clear line: unreachable, bad answer, or the balancer's own code.

export interface RegisterParams {
  token: string | undefined;
  name: string;
  publicUrl: string;
  location: { lat: number; lon: number } | null;
}

export interface Evidence {
  contentType: string;
  body: Buffer;
}

export interface BalancerClient {
  register(p: RegisterParams): Promise<NodeAnswer>;
  heartbeat(counter: number, stats: HeartbeatStats): Promise<NodeAnswer>;
  drain(counter: number): Promise<NodeAnswer>;
  /** Asks for an audit of the page behind a penalty (or a site's home page); rate-limited by the balancer. */
  recheck(counter: number, auditId?: string): Promise<RecheckResponse>;
  /** One piece of evidence behind a disclosed penalty. */
  evidence(counter: number, evidenceId: string): Promise<Evidence>;
}

export interface BalancerClientOptions {
  baseUrl: string;
  identity: NodeIdentity;
  now: () => number;
  timeoutMs?: number;
  /** The node's TLS key fingerprint (node/tls-identity.ts), registered and sent with heartbeats. */
  tlsSpki?: string;
}

function isKnownCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorCodes, code);
}

async function readAnswer(res: Response, what: string, baseUrl: string): Promise<unknown> {
  const text = await res.text();
  // A 5xx (the balancer's database restarting, a proxy in front of it) passes: retry like a network error.
  if (res.status >= 500) throw new VerityError('NODE_ERR_BALANCER_UNREACHABLE', `the balancer ${baseUrl} is unavailable (HTTP ${res.status} to ${what})`);
  // The public port answers every Host it does not serve with 421: a classic wrong --balancer.
  if (res.status === 421) {
    throw new VerityError('NODE_ERR_BAD_ANSWER', `${baseUrl} answered ${what} with HTTP 421 (misdirected request): is this the control-plane URL? --balancer takes the balancer's control plane (its --control-listen address, port 8081 by default), not the public port visitors use`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const snippet = text.slice(0, 80).replace(/\s+/g, ' ');
    throw new VerityError('NODE_ERR_BAD_ANSWER', `the balancer's ${what} answer (HTTP ${res.status}) is not JSON: "${snippet}" — is --balancer the control-plane URL?`);
  }
  if (res.ok) return json;
  const err = errorBody.safeParse(json);
  if (!err.success) throw new VerityError('NODE_ERR_BAD_ANSWER', `the balancer refused ${what} with HTTP ${res.status} and no error code`);
  const { code, message } = err.data.error;
  throw new VerityError(isKnownCode(code) ? code : 'NODE_ERR_BAD_ANSWER', `${message} (${code})`);
}

const MAX_EVIDENCE_BYTES = 16 * 1024 * 1024;

export function createBalancerClient(opts: BalancerClientOptions): BalancerClient {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const send = async (path: string, body?: Buffer, signature?: string): Promise<Response> => {
    const url = new URL(path, opts.baseUrl);
    const headers: Record<string, string> = {};
    if (body) headers['content-type'] = 'application/json';
    if (signature) headers[SIGNATURE_HEADER] = signature;
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body: body ? new Uint8Array(body) : null, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      throw new VerityError('NODE_ERR_BALANCER_UNREACHABLE', `the balancer ${opts.baseUrl} cannot be reached: ${describeError(cause ?? err)}`, { cause: err });
    }
    return res;
  };
  const post = async (path: string, what: string, body?: Buffer, signature?: string): Promise<unknown> => readAnswer(await send(path, body, signature), what, opts.baseUrl);
  // Requests that spend a counter go out one after the other, in counter order: a re-check
  // sent while a heartbeat is in flight must not overtake it (the balancer would refuse the
  // lower counter as a replay).
  let chain: Promise<unknown> = Promise.resolve();
  const inOrder = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };
  const standing = (value: unknown, what: string): NodeAnswer => {
    const parsed = nodeAnswer.safeParse(value);
    if (!parsed.success) throw new VerityError('NODE_ERR_BAD_ANSWER', `the balancer's ${what} answer is not a node standing with a request key`);
    return parsed.data;
  };
  const signed = async (kind: SignedKind, path: string, body: unknown): Promise<NodeAnswer> => {
    const { bytes, signature } = signRequest(opts.identity.privateKey, kind, body);
    return standing(await post(path, kind, bytes, signature), kind);
  };
  const id = opts.identity;
  return {
    async register(p) {
      const challenge = challengeResponse.safeParse(await post(paths.challenge, 'challenge'));
      if (!challenge.success) throw new VerityError('NODE_ERR_BAD_ANSWER', "the balancer's challenge answer has no nonce");
      return signed('register', paths.register, {
        nodeId: id.nodeId, publicKey: id.publicKey, nonce: challenge.data.nonce, ...(p.token ? { token: p.token } : {}),
        name: p.name, publicUrl: p.publicUrl, location: p.location, timestamp: opts.now(), ...(opts.tlsSpki ? { tlsSpki: opts.tlsSpki } : {}),
      });
    },
    // Every heartbeat carries the TLS key: a new one (rotation) is pinned from then on.
    heartbeat: (counter, stats) => inOrder(() => signed('heartbeat', paths.heartbeat, { nodeId: id.nodeId, counter, timestamp: opts.now(), stats, ...(opts.tlsSpki ? { tlsSpki: opts.tlsSpki } : {}) })),
    drain: (counter) => inOrder(() => signed('drain', paths.drain, { nodeId: id.nodeId, counter, timestamp: opts.now() })),
    recheck: (counter, auditId) => inOrder(async () => {
      const { bytes, signature } = signRequest(id.privateKey, 'recheck', { nodeId: id.nodeId, counter, timestamp: opts.now(), ...(auditId ? { auditId } : {}) });
      const parsed = recheckResponse.safeParse(await post(paths.recheck, 'recheck', bytes, signature));
      if (!parsed.success) throw new VerityError('NODE_ERR_BAD_ANSWER', "the balancer's recheck answer is not understood");
      return parsed.data;
    }),
    evidence: (counter, evidenceId) => inOrder(async () => {
      const { bytes, signature } = signRequest(id.privateKey, 'evidence', { nodeId: id.nodeId, counter, timestamp: opts.now(), evidenceId });
      const res = await send(paths.evidence, bytes, signature);
      if (!res.ok) {
        await readAnswer(res, 'evidence', opts.baseUrl);
        throw new VerityError('NODE_ERR_BAD_ANSWER', `the balancer answered evidence with HTTP ${res.status}`);
      }
      const body = Buffer.from(await res.arrayBuffer());
      if (body.length > MAX_EVIDENCE_BYTES) throw new VerityError('NODE_ERR_BAD_ANSWER', 'the evidence is larger than a node accepts');
      return { contentType: res.headers.get('content-type') ?? 'application/octet-stream', body };
    }),
  };
}
