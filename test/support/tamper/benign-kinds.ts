import { brotliCompressSync, gzipSync } from 'node:zlib';
import { htmlEdit, isHtml, withoutHeaders, type BenignKind, type CapturedResponse, type TransformContext } from './types.js';

// Harmless differences a node (or the network) may introduce: the auditor must pass each one.

function kind(k: Omit<BenignKind, 'category'>): BenignKind {
  return { ...k, category: 'benign' };
}

function accepts(ctx: TransformContext, encoding: string): boolean {
  const v = ctx.requestHeaders['accept-encoding'];
  return (Array.isArray(v) ? v.join(',') : (v ?? '')).includes(encoding);
}

function compressed(res: CapturedResponse, encoding: 'gzip' | 'br', body: Buffer): CapturedResponse {
  const headers = withoutHeaders(res, ['content-length', 'content-encoding']);
  headers.push(['content-encoding', encoding], ['vary', 'Accept-Encoding'], ['content-length', String(body.length)]);
  return { ...res, headers, body };
}

const anyOk = (_p: string, res: CapturedResponse) => res.status === 200;

export const benignKinds: BenignKind[] = [
  kind({ name: 'identity', description: 'relays the origin unchanged', samplePath: '/', applies: () => false, transform: (res) => res }),
  kind({
    name: 'stale-cache',
    description: 'serves a copy cached earlier: other CSRF token, nonce, timestamp and quote',
    samplePath: '/',
    applies: (_p, res) => isHtml(res),
    transform: (res, ctx) => {
      const key = `stale:${ctx.path}`;
      const cached = ctx.memory.get(key) as CapturedResponse | undefined;
      if (cached) return cached;
      ctx.memory.set(key, res);
      return res;
    },
  }),
  kind({
    name: 'gzip-recompression',
    description: 'gzips responses the origin sent uncompressed',
    samplePath: '/products',
    applies: anyOk,
    transform: (res, ctx) => (accepts(ctx, 'gzip') ? compressed(res, 'gzip', gzipSync(res.body, { level: 9 })) : res),
  }),
  kind({
    name: 'brotli-recompression',
    description: 'brotli-compresses responses',
    samplePath: '/about',
    applies: anyOk,
    transform: (res, ctx) => (accepts(ctx, 'br') ? compressed(res, 'br', brotliCompressSync(res.body)) : res),
  }),
  kind({
    name: 'header-order',
    description: 'reverses header order and changes header name case',
    samplePath: '/',
    applies: anyOk,
    transform: (res) => ({ ...res, headers: [...res.headers].reverse().map(([k, v]): [string, string] => [k.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase()), v]) }),
  }),
  kind({
    name: 'chunked-transfer',
    description: 'streams the body chunked instead of with Content-Length',
    samplePath: '/news',
    applies: anyOk,
    transform: (res) => ({ ...res, headers: withoutHeaders(res, ['content-length']) }),
  }),
  kind({
    name: 'whitespace-reflow',
    description: 'collapses and re-indents whitespace between tags',
    samplePath: '/products',
    ...htmlEdit((h) => h.replace(/>\s+</g, '>\n  <').replace(/[ \t]{2,}/g, ' ')),
  }),
  kind({
    name: 'comments-stripped',
    description: 'minifier strips HTML comments and blank lines',
    samplePath: '/about',
    ...htmlEdit((h) => h.replace(/<!--[\s\S]*?-->/g, '').replace(/\n\s*\n/g, '\n')),
  }),
  kind({
    name: 'crlf-line-endings',
    description: 'converts line endings to CRLF',
    samplePath: '/contact',
    ...htmlEdit((h) => h.replace(/\r?\n/g, '\r\n')),
  }),
  kind({
    name: 'entity-encoding',
    description: 're-encodes characters as HTML entities (same text once parsed)',
    samplePath: '/products',
    ...htmlEdit((h) => h.replace(/€/g, '&euro;').replace(/©/g, '&#169;').replace(/“/g, '&ldquo;')),
  }),
  kind({
    name: 'attribute-quoting',
    description: 'rewrites attribute quotes from double to single',
    samplePath: '/',
    ...htmlEdit((h) => h.replace(/ (href|src|class|alt|rel)="([^"']*)"/g, " $1='$2'")),
  }),
  kind({
    name: 'cache-headers',
    description: 'adds Age, Via, X-Cache, an ETag and a Date of its own',
    samplePath: '/news',
    applies: anyOk,
    transform: (res, ctx) => ({
      ...res,
      headers: [...withoutHeaders(res, ['date', 'etag']), ['date', new Date(Date.UTC(2026, 0, 1)).toUTCString()], ['age', String(Math.floor(ctx.random() * 60))], ['via', '1.1 volunteer-node'], ['x-cache', 'HIT'], ['etag', `W/"${Math.floor(ctx.random() * 1e9).toString(16)}"`]],
    }),
  }),
];

