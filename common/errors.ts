// One registry of coded errors. Low-level errors are translated once, at the edge, and keep
// their `cause` so logs still show what really happened.

export const errorCodes = {
  CFG_ERR_INVALID: 'configuration is invalid',
  CLI_ERR_USAGE: 'bad command line',
  CLI_ERR_LISTEN: 'cannot listen on the given address',
  DB_ERR_EMBEDDED_START: 'the embedded PostgreSQL could not start',
  DB_ERR_MIGRATION: 'a migration failed',
  DB_ERR_UNREACHABLE: 'the database cannot be reached',
  SITE_ERR_EXISTS: 'a site with this host already exists',
  SITE_ERR_UNKNOWN: 'no site has this host',
  SITE_ERR_INVALID: 'the site definition is invalid',
  TOKEN_ERR_INVALID: 'the join token is unknown, used up, revoked or expired',
  NODE_ERR_UNKNOWN: 'no node has this id',
  ADMIN_ERR_NO_REASON: 'an admin action on a node needs a reason',
  NODE_ERR_TOKEN_REJECTED: 'the balancer refused the join token',
  NODE_ERR_REVOKED: 'the balancer has banned or revoked this node',
  NODE_ERR_BALANCER_UNREACHABLE: 'the balancer cannot be reached',
  NODE_ERR_BAD_ANSWER: 'the balancer answered with something that is not the expected JSON',
  NODE_ERR_BAD_REQUEST: 'the node request is malformed',
  NODE_ERR_BAD_NONCE: 'the registration nonce is invalid or expired',
  NODE_ERR_BAD_SIGNATURE: 'the request signature does not verify',
  NODE_ERR_REPLAY: 'the heartbeat counter is not above the last one accepted',
  NODE_ERR_CLOCK_SKEW: "the node's clock is more than 60 s off the balancer's",
  NODE_ERR_URL_REFUSED: "the node's public URL points at a loopback, private or otherwise non-public address",
  NODE_ERR_NOT_FOUND: 'no disclosed penalty of this node has that audit or evidence',
  NODE_ERR_RATE_LIMITED: 'a re-check was asked for too recently',
  NODE_ERR_IDENTITY: "the node's key file cannot be read or written",
  NODE_ERR_CACHE_DIR: 'the cache directory is not writable',
  BAL_ERR_NO_ELIGIBLE_NODE: 'no eligible node serves this site',
  BAL_ERR_UPSTREAM_TIMEOUT: 'the upstream did not answer in time',
  BAL_ERR_UPSTREAM_RESET: 'the upstream connection failed',
  BAL_ERR_UPSTREAM_PROTOCOL: 'the upstream answered with an invalid response',
  BAL_ERR_BODY_TOO_LARGE: 'the request body is larger than the balancer forwards',
  AUD_ERR_RENDER_TIMEOUT: 'the page did not render in time',
  AUD_ERR_BROWSER_CRASHED: 'the browser crashed',
  DEMO_ERR_START: 'a part of the demo failed to start',
  AUD_ERR_NO_BROWSER: 'no browser was found',
  AUD_ERR_FETCH_FAILED: 'the audit fetch could not connect or was cut off',
  AUD_ERR_FETCH_TIMEOUT: 'the audit fetch did not finish in time',
  AUD_ERR_BODY_TOO_LARGE: 'the response body exceeded the audit size cap',
  AUD_ERR_BAD_ENCODING: 'the response body could not be decoded',
  AUD_ERR_NO_SECRET: 'no audit secret is configured or stored',
  AUD_ERR_NO_SANDBOX: 'the browser cannot run with its sandbox here',
  TLS_ERR_SEALED_KEY: 'a sealed private key does not open with this --tls-secret',
  TLS_ERR_CERTIFICATE: 'the certificate or its key is unusable',
  TLS_ERR_NO_SECRET: 'private keys are stored sealed: --tls-secret (VERITY_TLS_SECRET) is needed',
  ACME_ERR_ISSUE: 'the ACME server did not issue a certificate',
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class VerityError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? errorCodes[code], options);
    this.name = 'VerityError';
    this.code = code;
  }
}

export function isVerityError(err: unknown, code?: ErrorCode): err is VerityError {
  return err instanceof VerityError && (code === undefined || err.code === code);
}

/** Message of any thrown value, for one-line reports. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
