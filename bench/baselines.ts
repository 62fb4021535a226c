import { createHash } from 'node:crypto';
import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import httpProxy from 'http-proxy';
import { Pool } from 'undici';

// Ceilings for the proxy benchmark, each a child process of its own (argv: mode, upstream):
// - origin: the bench site (a 10 KB page, a 100 KB script), cacheable;
// - http-proxy: a bare keep-alive reverse proxy on node:http, nothing else;
// - undici-sha: a bare undici pool that reads the whole body, hashes it with SHA-256 and sends
//   it (the least any proxy verifying bytes must do).
// Each prints `listening: URL`.

const PAGE = Buffer.from(`<!doctype html><html><head><title>bench</title></head><body>${'<p>Lorem ipsum dolor sit amet, consectetur adipiscing.</p>'.repeat(170)}</body></html>`);
const SCRIPT = Buffer.from(`/* bench */\n${'console.log("verity bench script line, long enough to matter");\n'.repeat(1600)}`);

function origin(): Server {
  return createServer((req, res) => {
    const script = req.url === '/app.js';
    const body = script ? SCRIPT : PAGE;
    res.writeHead(200, {
      'content-type': script ? 'text/javascript' : 'text/html; charset=utf-8', 'content-length': body.length, 'cache-control': 'public, max-age=3600',
      etag: `"${script ? 's' : 'p'}${body.length}"`,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}

function bareHttpProxy(upstream: string): Server {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const proxy = httpProxy.createProxyServer({ target: upstream, agent });
  proxy.on('error', (_err, _req, res) => {
    if ('writeHead' in res && !res.headersSent) res.writeHead(502);
    res.end();
  });
  return createServer((req, res) => proxy.web(req, res));
}

function bareUndiciSha(upstream: string): Server {
  const pool = new Pool(upstream, { connections: 256, pipelining: 1 });
  return createServer((req, res) => {
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push(req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? '');
    pool.request({ path: req.url ?? '/', method: 'GET', headers }).then(async (up) => {
      const chunks: Buffer[] = [];
      for await (const c of up.body as AsyncIterable<Buffer>) chunks.push(c);
      const body = Buffer.concat(chunks);
      createHash('sha256').update(body).digest('hex');
      res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? ''), 'content-length': body.length });
      res.end(body);
    }, () => {
      res.writeHead(502);
      res.end();
    });
  });
}

const [mode, upstream = ''] = process.argv.slice(2);
const server = mode === 'origin' ? origin() : mode === 'http-proxy' ? bareHttpProxy(upstream) : mode === 'undici-sha' ? bareUndiciSha(upstream) : null;
if (!server) throw new Error(`unknown baseline ${String(mode)}`);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening: http://127.0.0.1:${(server.address() as AddressInfo).port}\n`));
