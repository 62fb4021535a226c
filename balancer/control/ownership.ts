import { randomBytes } from 'node:crypto';
import { ownerUrlProblem } from './ssrf.js';

// The ownership check for a site an owner adds (or an origin they change to), as ACME's HTTP-01
// does: the origin must serve, at a path named by a random token, a second random value (the
// proof). Serving the path alone is not enough (an origin that echoes paths would pass), nor is a
// redirect followed (it could lead anywhere). It proves control of the origin; see docs/accounts.md.

export const CHALLENGE_PREFIX = '/.well-known/verity-challenge/';
const MAX_BODY_BYTES = 1024;

export interface Challenge {
  token: string;
  proof: string;
}

export function newChallenge(): Challenge {
  return { token: randomBytes(18).toString('base64url'), proof: `verity-site-verification=${randomBytes(24).toString('base64url')}` };
}

export function challengeUrl(origin: string, token: string): string {
  return `${origin.replace(/\/+$/, '')}${CHALLENGE_PREFIX}${token}`;
}

async function readCapped(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new Error(`answered more than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface CheckOptions {
  allowPrivate: boolean;
  timeoutMs?: number;
  resolve?: (host: string) => Promise<string[]>;
}

/** Null when the origin serves the proof at the challenge URL; else what went wrong, in words. */
export async function challengeProblem(origin: string, c: Challenge, o: CheckOptions): Promise<string | null> {
  const refused = await ownerUrlProblem(origin, o.allowPrivate, o.resolve);
  if (refused) return refused;
  const url = challengeUrl(origin, c.token);
  try {
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(o.timeoutMs ?? 10_000), headers: { 'user-agent': 'Verity-Ownership-Check/1' } });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      return `${url} answered ${res.status}, not 200 with the proof`;
    }
    const body = (await readCapped(res)).trim();
    return body === c.proof ? null : `${url} answered, but not with the proof (it must be exactly: ${c.proof})`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return `${url} could not be fetched (${cause?.code ?? (err as Error).message})`;
  }
}
