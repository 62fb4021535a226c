import { VerityError, describeError, errorCodes, type ErrorCode } from '../common/errors.js';
import {
  SIGNATURE_HEADER, challengeResponse, errorBody, nodeStanding, paths, signRequest,
  type HeartbeatStats, type NodeStanding, type SignedKind,
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

export interface BalancerClient {
  register(p: RegisterParams): Promise<NodeStanding>;
  heartbeat(counter: number, stats: HeartbeatStats): Promise<NodeStanding>;
  drain(counter: number): Promise<NodeStanding>;
}

export interface BalancerClientOptions {
  baseUrl: string;
  identity: NodeIdentity;
  now: () => number;
  timeoutMs?: number;
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

export function createBalancerClient(opts: BalancerClientOptions): BalancerClient {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const post = async (path: string, what: string, body?: Buffer, signature?: string): Promise<unknown> => {
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
    return readAnswer(res, what, opts.baseUrl);
  };
  const standing = (value: unknown, what: string): NodeStanding => {
    const parsed = nodeStanding.safeParse(value);
    if (!parsed.success) throw new VerityError('NODE_ERR_BAD_ANSWER', `the balancer's ${what} answer is not a node standing`);
    return parsed.data;
  };
  const signed = async (kind: SignedKind, path: string, body: unknown): Promise<NodeStanding> => {
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
        name: p.name, publicUrl: p.publicUrl, location: p.location, timestamp: opts.now(),
      });
    },
    heartbeat: (counter, stats) => signed('heartbeat', paths.heartbeat, { nodeId: id.nodeId, counter, timestamp: opts.now(), stats }),
    drain: (counter) => signed('drain', paths.drain, { nodeId: id.nodeId, counter, timestamp: opts.now() }),
  };
}
