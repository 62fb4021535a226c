import { VerityError, isVerityError } from '../../common/errors.js';

// Low-level upstream failures are translated here, once, keeping `cause` (caddy's statusError:
// timeout → 504, everything else → 502).

export type UpstreamFailure = 'timeout' | 'reset' | 'protocol' | 'status' | 'truncated' | 'too-large';

export function upstreamError(kind: UpstreamFailure, message: string, cause?: unknown): VerityError {
  const code = kind === 'timeout' ? 'BAL_ERR_UPSTREAM_TIMEOUT' : kind === 'reset' ? 'BAL_ERR_UPSTREAM_RESET' : 'BAL_ERR_UPSTREAM_PROTOCOL';
  const err = new VerityError(code, message, { cause });
  (err as VerityError & { failure?: UpstreamFailure }).failure = kind;
  return err;
}

/** What kind of failure a thrown value is: node's http parser errors are protocol failures. */
export function failureOf(err: unknown): UpstreamFailure {
  if (isVerityError(err)) {
    const failure = (err as VerityError & { failure?: UpstreamFailure }).failure;
    if (failure) return failure;
  }
  const code = (err as { code?: string } | null)?.code ?? '';
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout';
  if (code.startsWith('HPE_') || code === 'ERR_INVALID_HTTP_TOKEN' || code === 'ERR_INVALID_CHAR' || code === 'UND_ERR_INFO') return 'protocol';
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return 'truncated';
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return 'too-large';
  // undici wraps parser errors in a SocketError/HTTPParserError whose cause has the HPE_ code.
  const cause = (err as { cause?: { code?: string } } | null)?.cause?.code ?? '';
  if (cause.startsWith('HPE_') || (err as { name?: string } | null)?.name === 'HTTPParserError') return 'protocol';
  return 'reset';
}

/** The one place an upstream failure becomes a status for the visitor. */
export function statusForFailure(failure: UpstreamFailure): 502 | 504 {
  return failure === 'timeout' ? 504 : 502;
}
