import { Http2ServerResponse, type Http2ServerRequest, type OutgoingHttpHeaders } from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';

// HTTP/2 visitors go through the same vetting and the same handler as HTTP/1.1 ones, which use
// the IncomingMessage/ServerResponse surface. Where HTTP/2 differs, it is adapted here, once:
// - the request's pseudo-headers are not headers: `:authority` becomes `host` (and a `host`
//   field that disagrees with it stays, as a second host, so vetting refuses it);
// - a body without a length (DATA frames, no content-length) is presented as chunked, so it is
//   forwarded with the framing it came with and a GET carrying one is refused like on HTTP/1.1;
// - connection-specific response headers do not exist in HTTP/2 (RFC 9113 §8.2.2): they are
//   dropped, and `Connection: close` (a refused request, shutdown) becomes a graceful GOAWAY.

/** Response header names that are about one HTTP/1.1 connection. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

function hasBody(req: Http2ServerRequest): boolean {
  return !req.stream.endAfterHeaders;
}

/** Per request: the header view the handler sees. */
export function adaptRequest(req: Http2ServerRequest): void {
  const h2 = req.headers;
  const raw = req.rawHeaders;
  const headers: IncomingHttpHeaders = {};
  const rawOut: string[] = [];
  const authority = h2[':authority'];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.charCodeAt(0) === 58 /* : */) continue;
    // A host field equal to :authority is the same host said twice (RFC 9113 §8.3.1).
    if (name === 'host' && raw[i + 1] === authority) continue;
    rawOut.push(name, raw[i + 1] as string);
  }
  for (const name in h2) if (name.charCodeAt(0) !== 58) headers[name] = h2[name] as string;
  if (typeof authority === 'string') {
    rawOut.unshift('host', authority);
    if (headers.host === undefined) headers.host = authority;
  }
  if (hasBody(req) && headers['content-length'] === undefined) headers['transfer-encoding'] = 'chunked';
  Object.defineProperty(req, 'headers', { value: headers, enumerable: true });
  Object.defineProperty(req, 'rawHeaders', { value: rawOut, enumerable: true });
}

function closeSession(this: H2VisitorResponse): void {
  this.stream.session?.close();
}

const finishedOf = Object.getOwnPropertyDescriptor(Http2ServerResponse.prototype, 'writableFinished')?.get;

export class H2VisitorResponse extends Http2ServerResponse {
  constructor(...args: ConstructorParameters<typeof Http2ServerResponse>) {
    super(...args);
    // Node reports (and emits 'finish' for) a stream the client reset as finished; the request
    // path must see a visitor who left, and stop the upstream work, exactly as on HTTP/1.1.
    Object.defineProperty(this, 'writableFinished', { get: () => !this.stream.aborted && finishedOf?.call(this) === true });
  }

  override writeHead(statusCode: number, a?: string | OutgoingHttpHeaders | readonly string[], b?: OutgoingHttpHeaders | readonly string[]): this {
    const given = typeof a === 'string' ? b : a;
    const headers: OutgoingHttpHeaders = {};
    let close = false;
    const add = (name: string, value: string | number | readonly string[] | undefined): void => {
      const lower = name.toLowerCase();
      if (value === undefined) return;
      if (CONNECTION_SPECIFIC.has(lower)) {
        if (lower === 'connection' && String(value).toLowerCase().includes('close')) close = true;
        return;
      }
      const prev = headers[lower];
      if (prev === undefined) headers[lower] = typeof value === 'number' ? value : (value as string | string[]);
      else headers[lower] = [...(Array.isArray(prev) ? prev : [String(prev)]), ...(Array.isArray(value) ? value : [String(value)])];
    };
    if (Array.isArray(given)) for (let i = 0; i < given.length; i += 2) add(given[i] as string, given[i + 1] as string);
    else if (given) for (const name of Object.keys(given)) add(name, (given as OutgoingHttpHeaders)[name]);
    if (close) this.once('finish', closeSession);
    return super.writeHead(statusCode, headers);
  }
}
