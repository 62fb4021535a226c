import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// An honest volunteer node that writes down everything a node can observe about each request:
// arrival time, its connection (and how many requests that connection carried), the path, and
// the headers in the order they came. It relays the origin unchanged.

export interface SeenByNode {
  atMs: number;
  socket: number;
  requestOnSocket: number;
  path: string;
  /** Header names and values, in arrival order. */
  headers: Array<[string, string]>;
}

export interface RecordingNode {
  url: string;
  seen: SeenByNode[];
  close(): Promise<void>;
}

function relay(originUrl: string, req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['connection', 'keep-alive', 'host'].includes(k)) headers[k] = v;
  headers.host = req.headers.host ?? '';
  const up = httpRequest(new URL(req.url ?? '/', originUrl), { method: req.method, headers }, (o) => {
    res.writeHead(o.statusCode ?? 502, Object.fromEntries(Object.entries(o.headers).filter(([k]) => !['connection', 'keep-alive', 'transfer-encoding'].includes(k))));
    o.pipe(res);
  });
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  up.end();
}

export async function startRecordingNode(originUrl: string, now: () => number = () => performance.now()): Promise<RecordingNode> {
  const seen: SeenByNode[] = [];
  const sockets = new Map<Socket, { id: number; count: number }>();
  let nextSocket = 0;
  const server = createServer((req, res) => {
    const s = sockets.get(req.socket) ?? { id: nextSocket++, count: 0 };
    s.count++;
    sockets.set(req.socket, s);
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? '']);
    if (seen.length < 200_000) seen.push({ atMs: now(), socket: s.id, requestOnSocket: s.count, path: req.url ?? '/', headers });
    relay(originUrl, req, res);
  });
  server.on('connection', (s) => s.on('close', () => sockets.delete(s)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
