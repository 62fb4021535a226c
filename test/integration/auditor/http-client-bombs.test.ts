import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVerityError } from '../../../common/errors.js';
import { createHttpClient } from '../../../auditor/fetch/http-client.js';

// The auditor fetches what nodes send: a compressed body that inflates past the audit's size
// limit is refused (capped, off the event loop, through common/http/decode.ts), never inflated.

const zeros = Buffer.alloc(64 * 1024 * 1024);
const bombs: Record<string, Buffer> = {
  gzip: gzipSync(zeros, { level: 9 }),
  br: brotliCompressSync(zeros, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }),
};
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const encoding = (req.url ?? '').slice(1);
    const body = bombs[encoding] ?? Buffer.from('plain');
    res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': encoding, 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('the auditor\'s HTTP client and decompression bombs', () => {
  it.each(Object.keys(bombs))('%s: 64 MiB of zeros from a few KiB is refused at the 1 MiB limit', async (encoding) => {
    const client = createHttpClient();
    try {
      const err = await client.get({ url: `${base}/${encoding}`, headers: [['host', 'site.test']], timeoutMs: 10_000, maxBytes: 1024 * 1024 }).then(() => null, (e: unknown) => e);
      expect(isVerityError(err, 'AUD_ERR_BAD_ENCODING'), String(err)).toBe(true);
    } finally {
      client.close();
    }
  });
});
