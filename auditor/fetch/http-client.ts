import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { VerityError } from '../../common/errors.js';
import { DecodeError, decodeBody } from '../../common/http/decode.js';

// The one HTTP client of the auditor: sends exactly the headers it is given, in order (the
// visitor's browser's set), follows no redirect (the first answer is what gets compared), caps
// size and time, and decodes the content encodings browsers accept (capped, off the event loop).

export interface HttpRequest {
  /** Where to connect, with the path and query to ask for. */
  url: string;
  /** Complete request headers in wire order, Host included. */
  headers: Array<[string, string]>;
  timeoutMs: number;
  maxBytes: number;
  /** The connections of one visitor's browser (openConnections); else the client's own pool. */
  connections?: Connections;
}

/**
 * A browser's own connections to a site: opened when its visit starts, at most six per host
 * (HTTP/1.1), kept alive between its requests, closed when it leaves. An audit's visit uses a
 * set of its own, so its first page pays for new connections as a visitor's does, instead of
 * riding the auditor's warm pool (the classifier node saw audits' files arrive closer together).
 */
export interface Connections {
  http: HttpAgent;
  https: HttpsAgent;
  close(): void;
}

export function openConnections(): Connections {
  const http = new HttpAgent({ keepAlive: true, maxSockets: 6 });
  const https = new HttpsAgent({ keepAlive: true, maxSockets: 6 });
  return {
    http,
    https,
    close: () => {
      http.destroy();
      https.destroy();
    },
  };
}

export interface HttpResult {
  status: number;
  headers: Array<[string, string]>;
  /** Decoded body. */
  body: Buffer;
  contentEncoding: string | null;
  elapsedMs: number;
}

export interface HttpClient {
  get(req: HttpRequest): Promise<HttpResult>;
  close(): void;
}

export function headerValue(headers: Array<[string, string]>, name: string): string | undefined {
  const n = name.toLowerCase();
  return headers.find(([k]) => k.toLowerCase() === n)?.[1];
}

/** Through the one capped, off-loop decoder everything of ours uses (common/http/decode.ts). */
async function decode(body: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  try {
    return await decodeBody(body, encoding, maxBytes);
  } catch (err) {
    const unknown = err instanceof DecodeError && err.reason === 'unknown-encoding';
    throw new VerityError('AUD_ERR_BAD_ENCODING', unknown ? `unsupported content-encoding ${encoding ?? ''}` : `the ${encoding ?? ''} body could not be decoded`, { cause: err });
  }
}

function collect(res: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        res.destroy(new VerityError('AUD_ERR_BODY_TOO_LARGE', `body over ${maxBytes} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => (res.complete ? resolve(Buffer.concat(chunks)) : reject(new VerityError('AUD_ERR_FETCH_FAILED', 'truncated body'))));
    res.on('error', reject);
    res.on('aborted', () => reject(new VerityError('AUD_ERR_FETCH_FAILED', 'truncated body')));
  });
}

export function createHttpClient(now: () => number = Date.now): HttpClient {
  const own = openConnections();
  const get = (req: HttpRequest): Promise<HttpResult> => {
    const started = now();
    const url = new URL(req.url);
    const secure = url.protocol === 'https:';
    const flat = req.headers.flat();
    return new Promise<HttpResult>((resolve, reject) => {
      const send = secure ? httpsRequest : httpRequest;
      const r = send(url, { method: 'GET', headers: flat, setHost: false, agent: secure ? (req.connections ?? own).https : (req.connections ?? own).http }, (res) => {
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i] ?? '', res.rawHeaders[i + 1] ?? '']);
        const encoding = headerValue(pairs, 'content-encoding');
        collect(res, req.maxBytes)
          .then((raw) => decode(raw, encoding, req.maxBytes))
          .then((body) => resolve({ status: res.statusCode ?? 0, headers: pairs, body, contentEncoding: encoding ?? null, elapsedMs: now() - started }))
          .catch(reject);
      });
      const timer = setTimeout(() => r.destroy(new VerityError('AUD_ERR_FETCH_TIMEOUT', `no complete answer within ${req.timeoutMs} ms`)), req.timeoutMs);
      r.on('close', () => clearTimeout(timer));
      r.on('error', (err) => reject(err instanceof VerityError ? err : new VerityError('AUD_ERR_FETCH_FAILED', err.message, { cause: err })));
      r.end();
    });
  };
  return {
    get,
    close: () => own.close(),
  };
}
