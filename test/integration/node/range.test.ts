import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestNodeServer, type TestNodeServer } from '../../support/node-server.js';
import { startOriginServer, type OriginHandler, type TestOrigin } from '../../support/origin-server.js';

// Partial content through a node: the balancer fetches piece-aligned ranges of large files and
// checks each piece. A range is answered from a stored complete response or a stored part; on
// a miss it goes to the origin and the origin's 206 is kept as a part.

const HOST = 'site-a.test';
const MiB = 1024 * 1024;
const file = Buffer.alloc(3 * MiB + 123);
for (let i = 0; i < file.length; i++) file[i] = (i * 7 + (i >> 11)) % 251;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let origin: TestOrigin;
let node: TestNodeServer;
let dir: string;

/** An origin that honours single byte ranges (or ignores them, when told). */
function ranged(body: Buffer, opts: { ignoreRange?: boolean; etag?: string } = {}): OriginHandler {
  return (req, res) => {
    const headers = { 'cache-control': 'max-age=600', etag: opts.etag ?? '"f1"', 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (!m || opts.ignoreRange) {
      res.writeHead(200, { ...headers, 'content-length': String(body.length) });
      return void res.end(body);
    }
    const [start, end] = [Number(m[1]), Math.min(Number(m[2]), body.length - 1)];
    res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': String(end - start + 1) });
    res.end(body.subarray(start, end + 1));
  };
}

beforeEach(async () => {
  origin = await startOriginServer();
  dir = mkdtempSync(join(tmpdir(), 'verity-node-range-'));
  node = await startTestNodeServer({ sites: { [HOST]: origin.url }, cacheDir: join(dir, 'cache'), capBytes: 64 * MiB, maxBodyBytes: 64 * MiB });
});
afterEach(async () => {
  await node.close();
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

const piece = (n: number) => `bytes=${n * MiB}-${(n + 1) * MiB - 1}`;
const get = (path: string, headers: Record<string, string> = {}) => node.request(path, { headers });

describe('ranges from a stored complete response', () => {
  it('cuts pieces from it, with Content-Range; 416 past the end; the whole file when If-Range does not match', async () => {
    origin.route('/file.bin', ranged(file));
    expect(sha((await get('/file.bin')).body)).toBe(sha(file));
    const p1 = await get('/file.bin', { range: piece(1) });
    expect([p1.status, p1.headers['x-verity-cache'], p1.headers['content-range'], p1.headers['content-length']]).toEqual([206, 'HIT', `bytes ${MiB}-${2 * MiB - 1}/${file.length}`, String(MiB)]);
    expect(p1.body.equals(file.subarray(MiB, 2 * MiB))).toBe(true);
    const tail = await get('/file.bin', { range: piece(3) });
    expect(tail.body.equals(file.subarray(3 * MiB))).toBe(true);
    expect((await get('/file.bin', { range: 'bytes=-10' })).body.equals(file.subarray(file.length - 10))).toBe(true);
    const past = await get('/file.bin', { range: `bytes=${file.length}-` });
    expect([past.status, past.headers['content-range']]).toEqual([416, `bytes */${file.length}`]);
    const other = await get('/file.bin', { range: piece(0), 'if-range': '"another"' });
    expect([other.status, other.body.length]).toEqual([200, file.length]);
    expect(origin.count('/file.bin')).toBe(1);
  });
});

describe('ranges on a miss', () => {
  it('asks the origin for the range, keeps its 206 as a part, and answers that range and ranges inside it from the part', async () => {
    origin.route('/big.bin', ranged(file));
    const first = await get('/big.bin', { range: piece(1) });
    expect([first.status, first.headers['x-verity-cache']]).toEqual([206, 'MISS']);
    expect(origin.requests[0]?.headers.range).toBe(piece(1));
    const again = await get('/big.bin', { range: piece(1) });
    expect([again.status, again.headers['x-verity-cache'], again.headers['content-range']]).toEqual([206, 'HIT', `bytes ${MiB}-${2 * MiB - 1}/${file.length}`]);
    expect(again.body.equals(file.subarray(MiB, 2 * MiB))).toBe(true);
    const inside = await get('/big.bin', { range: `bytes=${MiB + 10}-${MiB + 19}` });
    expect([inside.headers['x-verity-cache'], inside.headers['content-range']]).toEqual(['HIT', `bytes ${MiB + 10}-${MiB + 19}/${file.length}`]);
    expect(inside.body.equals(file.subarray(MiB + 10, MiB + 20))).toBe(true);
    // A part answers only what it holds.
    expect((await get('/big.bin', { range: piece(2) })).headers['x-verity-cache']).toBe('MISS');
    expect((await get('/big.bin')).status).toBe(200);
    expect(origin.count('/big.bin')).toBe(3);
  });

  it('keeps the whole file when the origin ignores the range, and answers later pieces from it', async () => {
    origin.route('/whole.bin', ranged(file, { ignoreRange: true }));
    const first = await get('/whole.bin', { range: piece(0) });
    expect([first.status, first.body.length]).toEqual([200, file.length]);
    const later = await get('/whole.bin', { range: piece(2) });
    expect([later.status, later.headers['x-verity-cache']]).toEqual([206, 'HIT']);
    expect(later.body.equals(file.subarray(2 * MiB, 3 * MiB))).toBe(true);
  });

  it('does not keep a part whose bytes do not match its Content-Range', async () => {
    origin.route('/lying.bin', (_req, res) => {
      res.writeHead(206, { 'cache-control': 'max-age=600', 'content-range': 'bytes 0-99/1000' });
      res.end(Buffer.alloc(50, 1));
    });
    await get('/lying.bin', { range: 'bytes=0-99' });
    expect((await get('/lying.bin', { range: 'bytes=0-99' })).headers['x-verity-cache']).toBe('MISS');
    expect(node.store.stats().entries).toBe(0);
  });

  it('drops stored parts once the complete response is stored', async () => {
    origin.route('/grow.bin', ranged(file));
    await get('/grow.bin', { range: piece(0) });
    await get('/grow.bin', { range: piece(1) });
    expect(node.store.variants(`${HOST}/grow.bin`).map((e) => e.status)).toEqual([206, 206]);
    await get('/grow.bin');
    expect(node.store.variants(`${HOST}/grow.bin`).map((e) => e.status)).toEqual([200]);
  });
});
