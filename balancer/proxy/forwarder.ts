import { Agent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { Agent as HttpsAgent } from 'node:https';
import httpProxy from 'http-proxy';

// The only place that touches http-proxy. As shipped it fails in several ways (SECURITY-TESTS.md
// "http-proxy as shipped"); each is contained here:
// - errors: every call has its own error callback, and the server has an 'error' listener as a
//   last resort, so a refused connection can never become an uncaught exception;
// - headers: the caller hands the exact header set to send; the client's headers are swapped
//   out while http-proxy copies them, so nothing the visitor sent leaks by default (no xfwd);
// - responses: selfHandleResponse — the caller decides what reaches the visitor;
// - keep-alive: one shared keep-alive agent (the default sends `Connection: close`);
// - aborts and deadlines: the caller gets abort(), which destroys the upstream request.

export interface UpstreamRequest {
  /** The visitor's request: http-proxy listens on it for aborts. */
  req: IncomingMessage;
  res: ServerResponse;
  /** Absolute URL of the upstream, path and query included. */
  target: URL;
  /** Exactly the headers to send (already cleaned). */
  headers: OutgoingHttpHeaders;
  /** Request body to stream upstream; omitted → empty body. */
  body?: Readable;
}

export interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

export interface UpstreamCall {
  /** Settles once the upstream answered with headers, or failed. */
  readonly response: Promise<UpstreamResponse>;
  /** Destroys the upstream request (and its response stream, if any). */
  abort(reason: Error): void;
}

export interface Forwarder {
  forward(request: UpstreamRequest): UpstreamCall;
  close(): void;
}

interface Pending {
  proxyReq: ClientRequest | null;
  aborted: Error | null;
  settle: (err: Error | null, res?: UpstreamResponse) => void;
}

/** Per-call options carry the attempt, so events of an abandoned attempt never reach a newer one. */
interface AttemptOptions {
  verityAttempt?: Pending;
}

export function createForwarder(opts: { maxFreeSockets?: number } = {}): Forwarder {
  const agentOptions = { keepAlive: true, keepAliveMsecs: 1000, maxFreeSockets: opts.maxFreeSockets ?? 256, scheduling: 'lifo' as const };
  const agent = new Agent(agentOptions);
  // Origins (and nodes) may be https: one keep-alive agent per scheme, certificates checked.
  const httpsAgent = new HttpsAgent(agentOptions);
  const proxy = httpProxy.createProxyServer({ agent, secure: true, selfHandleResponse: true, xfwd: false, changeOrigin: false, ignorePath: true, prependPath: true });
  const byProxyReq = new WeakMap<ClientRequest, Pending>();
  // Last resort: every call has its own error callback, but an 'error' with no listener at all
  // would be an uncaught exception (http-proxy as shipped dies on a refused connection).
  proxy.on('error', () => undefined);
  // The visitor's socket died: the exchange's 'close' handler aborts the attempt.
  proxy.on('econnreset', () => undefined);
  proxy.on('proxyReq', (proxyReq, _req, _res, options) => {
    const p = (options as AttemptOptions).verityAttempt;
    if (!p) return;
    p.proxyReq = proxyReq;
    byProxyReq.set(proxyReq, p);
    if (p.aborted) proxyReq.destroy(p.aborted);
  });
  proxy.on('proxyRes', (proxyRes) => {
    const proxyReq = (proxyRes as IncomingMessage & { req?: ClientRequest }).req;
    const p = proxyReq ? byProxyReq.get(proxyReq) : undefined;
    if (!p || p.aborted) {
      proxyRes.destroy();
      return;
    }
    p.settle(null, { status: proxyRes.statusCode ?? 502, headers: proxyRes.headers, body: proxyRes });
  });

  function forward(request: UpstreamRequest): UpstreamCall {
    let resolveFn: (r: UpstreamResponse) => void = () => undefined;
    let rejectFn: (e: Error) => void = () => undefined;
    const response = new Promise<UpstreamResponse>((resolve, reject) => {
      resolveFn = resolve;
      rejectFn = reject;
    });
    let settled = false;
    let upstreamRes: IncomingMessage | null = null;
    const state: Pending = {
      proxyReq: null,
      aborted: null,
      settle: (err, res) => {
        if (settled) return;
        settled = true;
        if (err || !res) rejectFn(err ?? new Error('upstream failed'));
        else {
          upstreamRes = res.body;
          resolveFn(res);
        }
      },
    };
    const callOptions = {
      target: request.target.href, buffer: request.body ?? emptyBody(), verityAttempt: state,
      agent: request.target.protocol === 'https:' ? httpsAgent : agent,
    };
    try {
      withHeaders(request.req, request.headers, () => {
        proxy.web(request.req, request.res, callOptions, (err) => state.settle(err));
      });
    } catch (err) {
      // http.request throws synchronously on a bad target: a failed attempt, not a crash.
      state.settle(err instanceof Error ? err : new Error(String(err)));
    }
    return {
      response,
      abort(reason) {
        state.aborted = reason;
        state.proxyReq?.destroy(reason);
        upstreamRes?.destroy(reason);
        state.settle(reason);
      },
    };
  }

  return {
    forward,
    close() {
      proxy.close();
      agent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** No body for GET/HEAD (cheaper than Readable.from([]), which goes through an async iterator). */
function emptyBody(): Readable {
  return new Readable({
    read() {
      this.push(null);
    },
  });
}

/**
 * http-proxy copies `req.headers` synchronously inside web(); the visitor's headers are swapped
 * for the cleaned set only for that call.
 */
function withHeaders(req: IncomingMessage, headers: OutgoingHttpHeaders, fn: () => void): void {
  const original = req.headers;
  req.headers = headers as IncomingHttpHeaders;
  try {
    fn();
  } finally {
    req.headers = original;
  }
}
