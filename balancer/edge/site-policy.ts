import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteSite } from '../registry/types.js';
import { NODE_HEADER } from '../routes/visit.js';

// What each site chose about HTTPS, applied before the request path: HTTP-01 challenges of the
// ACME client (answered from every balancer), the redirect of plain-HTTP visitors to HTTPS, and
// Strict-Transport-Security on HTTPS answers (never on plain HTTP: RFC 6797 §7.2).

export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

export interface HttpChallenges {
  httpChallenge(host: string, token: string): string | null;
}

function answer(res: ServerResponse, status: number, headers: string[], body: string): void {
  res.writeHead(status, [...headers, 'content-length', String(Buffer.byteLength(body)), 'cache-control', 'no-store', NODE_HEADER, 'origin']);
  res.end(body);
}

/** Per request: true when the edge answered it itself. */
export function applySitePolicy(req: IncomingMessage, res: ServerResponse, site: RouteSite, challenges: HttpChallenges | null, hasBody: boolean): boolean {
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const url = req.url ?? '/';
  if (encrypted) {
    if (site.hstsMaxAgeS !== null) res.setHeader('strict-transport-security', `max-age=${site.hstsMaxAgeS}`);
    return false;
  }
  if (url.startsWith(ACME_CHALLENGE_PREFIX)) {
    const keyAuthorization = challenges?.httpChallenge(site.host, url.slice(ACME_CHALLENGE_PREFIX.length)) ?? null;
    // A token we do not hold is the origin's business (an owner may run their own ACME client).
    if (keyAuthorization !== null) {
      answer(res, 200, ['content-type', 'text/plain'], keyAuthorization);
      return true;
    }
    return false;
  }
  if (!site.httpsRedirect) return false;
  // The body of a redirected request is never read: its connection closes after the answer.
  answer(res, 308, ['location', `https://${site.host}${url}`, 'content-type', 'text/plain', ...(hasBody ? ['connection', 'close'] : [])], 'moved to HTTPS\n');
  return true;
}
