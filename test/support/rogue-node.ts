import { request as httpRequest, createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { findKind, type CapturedResponse, type ResponseKind } from './tamper/index.js';

// A real HTTP server acting as a volunteer node: it fetches from the origin and applies one kind
// of the corpus (tamper or benign) to a chosen share of the responses it applies to.

export interface RogueNodeOptions {
  originUrl: string;
  /** A kind of the corpus or its name; null relays unchanged. */
  kind?: ResponseKind | string | null;
  /** Share of applicable responses that are transformed, 0..1 (default 1). */
  rate?: number;
  random?: () => number;
  port?: number;
  host?: string;
  /**
   * Relay the request's Host upstream: the "origin" is then a real `verity node` that picks the
   * site by Host, and this server is a doctoring proxy in front of it.
   */
  preserveHost?: boolean;
}

export interface RogueNodeStats {
  requests: number;
  transformed: number;
  /** Request headers as the node saw them (last 200), to check what a node can learn. */
  seen: Array<{ path: string; rawHeaders: string[] }>;
}

export interface RogueNode {
  url: string;
  port: number;
  stats: RogueNodeStats;
  setKind(kind: ResponseKind | string | null, rate?: number): void;
  close(): Promise<void>;
}

const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'accept-encoding', 'cookie', 'authorization']);

function fetchOrigin(originUrl: string, path: string, method: string, headers: IncomingHttpHeaders, preserveHost: boolean): Promise<CapturedResponse> {
  const target = new URL(path, originUrl);
  const forwarded: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !hopByHop.has(k)) forwarded[k] = v;
  if (preserveHost && headers.host) forwarded.host = headers.host;
  return new Promise((resolve, reject) => {
    const req = httpRequest(target, { method, headers: forwarded, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i] ?? '', res.rawHeaders[i + 1] ?? '']);
        const keep = pairs.filter(([k]) => !['connection', 'keep-alive', 'transfer-encoding'].includes(k.toLowerCase()));
        resolve({ status: res.statusCode ?? 502, headers: keep, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('origin timeout')));
    req.on('error', reject);
    req.end();
  });
}

function send(res: ServerResponse, out: CapturedResponse, head: boolean): void {
  const flat: string[] = [];
  for (const [k, v] of out.headers) flat.push(k, v);
  res.writeHead(out.status, flat);
  res.end(head ? undefined : out.body);
}

export async function startRogueNode(opts: RogueNodeOptions): Promise<RogueNode> {
  const random = opts.random ?? Math.random;
  const memory = new Map<string, unknown>();
  const resolveKind = (k: ResponseKind | string | null | undefined) => (typeof k === 'string' ? findKind(k) : (k ?? null));
  let kind = resolveKind(opts.kind);
  let rate = opts.rate ?? 1;
  const stats: RogueNodeStats = { requests: 0, transformed: 0, seen: [] };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = req.url ?? '/';
    stats.requests++;
    stats.seen.push({ path, rawHeaders: [...req.rawHeaders] });
    if (stats.seen.length > 200) stats.seen.shift();
    const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
    let out = await fetchOrigin(opts.originUrl, path, method, req.headers, opts.preserveHost ?? false);
    if (kind && kind.applies(path, out) && random() < rate) {
      out = kind.transform(out, { path, requestHeaders: req.headers, random, memory });
      stats.transformed++;
    }
    send(res, out, method === 'HEAD');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    stats,
    setKind(k, r = 1) {
      kind = resolveKind(k);
      rate = r;
      memory.clear();
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
