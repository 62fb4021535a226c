import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// A rogue volunteer as a careful attacker builds one: a REAL, unmodified `verity node` behind a
// proxy that doctors its answers on their way to the balancer. The balancer's signed requests
// pass through untouched (the node checks them); the node's answers are altered by `doctor`.
// Bodies over 2 MiB stream, with `flipAt` (an absolute offset) flipped when set.

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface DoctoringProxy {
  url: string;
  port: number;
  /** Answers altered so far. */
  doctored: number;
  close(): Promise<void>;
}

export type Doctor = (a: Answer, url: string) => Answer | null;

export const doctors = {
  /** Flips one byte of any body: what inline verification must catch, whatever the type. */
  swapBytes: ((a) => {
    if (a.status !== 200 || a.body.length < 12) return null;
    const body = Buffer.from(a.body);
    body[10] = (body[10] ?? 0) ^ 0xff;
    return { ...a, body };
  }) as Doctor,
  /** Honest bytes under other metadata: HTML label in capitals, a year of max-age, its own ETag. */
  relabel: ((a) => ({ ...a, headers: { ...a.headers, 'content-type': 'TEXT/HTML; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable', etag: '"rogue"' } })) as Doctor,
  /** Empty answers where the origin has bytes. */
  noContent: (() => ({ status: 204, headers: { 'cache-control': 'public, max-age=31536000' }, body: Buffer.alloc(0) })) as Doctor,
  notModified: ((a) => ({ status: 304, headers: { etag: String(a.headers.etag ?? '"x"'), 'cache-control': 'public, max-age=31536000' }, body: Buffer.alloc(0) })) as Doctor,
};

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

export async function startDoctoringProxy(o: { nodePort: number; doctor: Doctor; flipAt?: number }): Promise<DoctoringProxy> {
  const state = { doctored: 0 };
  const server: Server = createServer((req, res) => {
    const up = request({ host: '127.0.0.1', port: o.nodePort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const length = Number(answer.headers['content-length'] ?? -1);
      if (length > 2 * 1024 * 1024) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        let at = Number(/^bytes (\d+)-/.exec(String(answer.headers['content-range'] ?? ''))?.[1] ?? 0);
        answer.on('data', (chunk: Buffer) => {
          if (o.flipAt !== undefined && at <= o.flipAt && o.flipAt < at + chunk.length) {
            chunk = Buffer.from(chunk);
            chunk[o.flipAt - at] = (chunk[o.flipAt - at] ?? 0) ^ 0xff;
            state.doctored++;
          }
          at += chunk.length;
          if (!res.write(chunk)) {
            answer.pause();
            res.once('drain', () => answer.resume());
          }
        });
        answer.on('end', () => res.end());
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const original: Answer = { status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) };
        const out = req.url?.startsWith('/.well-known/') ? null : o.doctor(original, req.url ?? '/');
        if (out) state.doctored++;
        const a = out ?? original;
        const headers: Record<string, string | string[]> = {};
        for (const [n, v] of Object.entries(a.headers)) if (v !== undefined && !HOP.has(n)) headers[n] = v;
        res.writeHead(a.status, { ...headers, 'content-length': String(a.body.length) });
        res.end(req.method === 'HEAD' ? undefined : a.body);
      });
    });
    up.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get doctored() {
      return state.doctored;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
