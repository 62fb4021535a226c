import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { NODE_REQUEST_AUTH_HEADER, signNodeRequest } from '../../../common/protocol/node-request-auth.js';
import { useTestDatabase } from '../../support/db.js';
import { makeSiteWithToken } from '../../support/node-fixtures.js';
import { useNodeProcesses } from '../../support/node-process.js';
import { balancerKeyFor } from '../../support/node-signing.js';
import { startOriginServer, type OriginHandler } from '../../support/origin-server.js';

// Downloads and video are node-served: a real `verity node` streams a 50 MB file to the
// requester while writing it to its disk cache, and a 1 GiB file (larger than its cache) straight
// through, in bounded memory: its resident set grows by less than 64 MiB.

const db = useTestDatabase({ truncate: false });
const procs = useNodeProcesses(db);
const MiB = 1024 * 1024;
const block = Buffer.alloc(MiB);
for (let i = 0; i < block.length; i++) block[i] = (i * 31) % 253;

/** `size` bytes made of `block` with the block number stamped in, streamed with backpressure. */
function generated(size: number): { handler: OriginHandler; sha256: string } {
  const hash = createHash('sha256');
  const chunk = (n: number) => {
    const b = Buffer.from(block.subarray(0, Math.min(MiB, size - n * MiB)));
    b.writeUInt32BE(n, 0);
    return b;
  };
  for (let n = 0; n * MiB < size; n++) hash.update(chunk(n));
  const handler: OriginHandler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size), 'cache-control': 'public, max-age=600' });
    let n = 0;
    const more = () => {
      while (n * MiB < size) {
        if (!res.write(chunk(n++))) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  };
  return { handler, sha256: hash.digest('hex') };
}

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

/** A signed GET read as a stream: its sha256, length and cache status, never the bytes themselves. */
function download(url: string, key: string, host: string, path: string): Promise<{ status: number; sha256: string; length: number; cache: string }> {
  return new Promise((resolve, reject) => {
    const auth = signNodeRequest(key, { method: 'GET', host, target: path }, Date.now());
    request(url + path, { headers: { host, [NODE_REQUEST_AUTH_HEADER]: auth }, agent: false }, (res) => {
      const hash = createHash('sha256');
      let length = 0;
      res.on('data', (c: Buffer) => {
        hash.update(c);
        length += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sha256: hash.digest('hex'), length, cache: String(res.headers['x-verity-cache']) }));
      res.on('error', reject);
    }).on('error', reject).end();
  });
}

describe('large bodies through a real node', () => {
  it('streams 50 MB into its cache and back out, and 1 GiB straight through with bounded memory', async () => {
    const fifty = generated(50 * 1000 * 1000);
    const giga = generated(1024 * MiB);
    const origin = await startOriginServer({ '/video.mp4': fifty.handler, '/disk.iso': giga.handler });
    procs.cleanup(() => origin.close());
    const cp = await procs.controlPlane();
    const { token } = await makeSiteWithToken(db.pool, { host: 'dl.test', origin: origin.url });
    const node = procs.start(cp.url, token);
    const ready = await node.ready();
    const key = await balancerKeyFor(db.pool, ready.nodeId);
    const pid = node.child.pid ?? 0;

    const miss = await download(ready.url, key, 'dl.test', '/video.mp4');
    expect([miss.status, miss.cache, miss.length, miss.sha256]).toEqual([200, 'MISS', 50_000_000, fifty.sha256]);
    const hit = await download(ready.url, key, 'dl.test', '/video.mp4');
    expect([hit.cache, hit.sha256]).toEqual(['HIT', fifty.sha256]);
    expect(origin.count('/video.mp4')).toBe(1);

    const before = rssKiB(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(pid))), 50);
    const big = await download(ready.url, key, 'dl.test', '/disk.iso').finally(() => clearInterval(sampler));
    expect([big.status, big.length, big.sha256]).toEqual([200, 1024 * MiB, giga.sha256]);
    expect((peak - before) / 1024).toBeLessThan(64);
    // Larger than the whole cache (256 MiB): passed through, and the 50 MB file is still there.
    expect((await download(ready.url, key, 'dl.test', '/video.mp4')).cache).toBe('HIT');
  }, 180_000);
});
