import { createHash } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

// The harness adaptation (docs/benchmarks.md, "Conformance"). The suite's client tags every
// request with bookkeeping headers (Test-ID, Req-Num, Test-Name) that its origin needs to pick
// the configured answer and record what it saw. A Verity node forwards only a fixed allowlist of
// visitor headers, and the balancer sends nodes nothing else, so those tags cannot pass through
// the cache. They travel beside it instead: the front shim (client → cache) takes them off and
// remembers them per test; the back shim (cache → origin) puts them back on every request the
// cache makes for that test. A test's requests run one after another, so "the latest tags of
// this test" is exactly what the tags would have been. The suite's own set-up calls (PUT
// /config, GET /state) go straight to the origin.
//
// Both shims work on the raw connection: they rewrite request heads and copy everything else
// byte for byte, on the same keep-alive connection, so the cache sees the client's connection
// behaviour and the client gets the cache's answers exactly as sent (interim responses, bodies
// longer than their Content-Length, closed connections).

const BOOKKEEPING = ['test-id', 'req-num', 'test-name'];
const MAX_HEAD_BYTES = 64 * 1024;

export type Tags = Map<string, [string, string][]>;

export interface RawRequest {
  method: string;
  target: string;
  headers: [string, string][];
  body: Buffer;
}

function testUuid(target: string): string | null {
  return /^\/test\/([^/?]+)/.exec(target)?.[1] ?? null;
}

function parseHead(text: string): Omit<RawRequest, 'body'> | null {
  const [line = '', ...rest] = text.split('\r\n');
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.[01]$/.exec(line);
  if (!m) return null;
  const headers: [string, string][] = [];
  for (const h of rest) {
    const i = h.indexOf(':');
    if (i <= 0) return null;
    headers.push([h.slice(0, i).trim(), h.slice(i + 1).trim()]);
  }
  return { method: m[1] ?? 'GET', target: m[2] ?? '/', headers };
}

function serialise(r: RawRequest): Buffer {
  const lines = r.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('');
  return Buffer.concat([Buffer.from(`${r.method} ${r.target} HTTP/1.1\r\n${lines}\r\n`, 'latin1'), r.body]);
}

/** Requests out of a client's byte stream, one at a time (Content-Length bodies; the suite's client sends no other). */
function requestReader(onRequest: (r: RawRequest) => void, onBad: () => void): (chunk: Buffer) => void {
  let buffered = Buffer.alloc(0);
  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return buffered.length > MAX_HEAD_BYTES ? onBad() : undefined;
      const head = parseHead(buffered.subarray(0, end).toString('latin1'));
      const te = head?.headers.some(([n]) => n.toLowerCase() === 'transfer-encoding');
      if (!head || te) return onBad();
      const length = Number(head.headers.find(([n]) => n.toLowerCase() === 'content-length')?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      const body = buffered.subarray(end + 4, end + 4 + length);
      buffered = buffered.subarray(end + 4 + length);
      onRequest({ ...head, body: Buffer.from(body) });
    }
  };
}

/**
 * A proxy that rewrites each request and sends it to the upstream `route` picks, on one
 * connection per upstream for each client connection. Upstream bytes go back unchanged; when the
 * upstream that got the client's latest request closes, so does the client connection.
 */
async function startRewritingProxy(route: (r: RawRequest) => { upstream: string; request: RawRequest }): Promise<Shim> {
  const server = createServer((client) => {
    const upstreams = new Map<string, Socket>();
    let current: Socket | null = null;
    const drop = () => {
      client.destroy();
      for (const u of upstreams.values()) u.destroy();
    };
    const upstreamFor = (base: string): Socket => {
      const existing = upstreams.get(base);
      if (existing && !existing.destroyed) return existing;
      const url = new URL(base);
      const sock = connect(Number(url.port), url.hostname);
      upstreams.set(base, sock);
      sock.on('data', (c: Buffer) => client.write(c));
      sock.on('error', () => undefined);
      sock.on('close', () => {
        upstreams.delete(base);
        if (current === sock) client.end();
      });
      return sock;
    };
    client.on('data', requestReader((r) => {
      const { upstream, request } = route(r);
      current = upstreamFor(upstream);
      current.write(serialise(request));
    }, drop));
    client.on('error', () => undefined);
    client.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface FrontOptions {
  /** The cache under test. */
  cache: string;
  /** The suite's origin, for its set-up calls. */
  origin: string;
  tags: Tags;
  /** Host header toward the cache (the site's host for Verity). */
  host?: string;
  /** Extra headers for a request to the cache (the balancer's signature, for a node alone). */
  extra?: (r: { method: string; host: string; target: string; bodySha256: string }) => [string, string][];
}

export interface Shim {
  url: string;
  close(): Promise<void>;
}

const named = (names: string[]) => ([n]: [string, string]) => names.includes(n.toLowerCase());

export function startFrontShim(o: FrontOptions): Promise<Shim> {
  return startRewritingProxy((r) => {
    if (r.target.startsWith('/config/') || r.target.startsWith('/state/')) return { upstream: o.origin, request: r };
    const uuid = testUuid(r.target);
    if (uuid) o.tags.set(uuid, r.headers.filter(named(BOOKKEEPING)));
    const headers = r.headers.filter((h) => !named(BOOKKEEPING)(h) && !(o.host !== undefined && named(['host'])(h)));
    if (o.host !== undefined) headers.unshift(['Host', o.host]);
    const bodySha256 = r.body.length > 0 ? createHash('sha256').update(r.body).digest('hex') : '';
    headers.push(...(o.extra?.({ method: r.method, host: o.host ?? '', target: r.target, bodySha256 }) ?? []));
    return { upstream: o.cache, request: { ...r, headers } };
  });
}

export function startBackShim(origin: string, tags: Tags): Promise<Shim> {
  return startRewritingProxy((r) => {
    const uuid = testUuid(r.target);
    const headers = [...r.headers.filter((h) => !named(BOOKKEEPING)(h)), ...((uuid && tags.get(uuid)) || [])];
    return { upstream: origin, request: { ...r, headers } };
  });
}
