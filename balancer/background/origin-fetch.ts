import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

// Background fetches (shadow copies, manifests, security-header policy, node health): plain
// node:http with a deadline and a size cap. Never used on a visitor's request path.

export interface FetchedCopy {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export function fetchCopy(url: URL, opts: { host?: string; timeoutMs: number; maxBytes: number; headers?: Record<string, string> }): Promise<FetchedCopy> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, {
      method: 'GET', agent: false,
      headers: { 'accept-encoding': 'identity', 'user-agent': 'verity-balancer', ...(opts.host ? { host: opts.host } : {}), ...opts.headers },
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${url.host} within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > opts.maxBytes) req.destroy(new Error('body too large'));
        else chunks.push(c);
      });
      res.on('error', () => undefined);
      res.on('end', () => {
        clearTimeout(timer);
        if (!res.complete) reject(new Error('body cut short'));
        else resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('close', () => {
        clearTimeout(timer);
        if (!res.complete) reject(new Error('body cut short'));
      });
    });
    req.end();
  });
}
