import { monitorEventLoopDelay } from 'node:perf_hooks';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync, constants } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DecodeError, decodeBody } from '../../../common/http/decode.js';

const MiB = 1024 * 1024;

describe('decodeBody', () => {
  it('undoes gzip, br, deflate (zlib and raw) and a list of codings', async () => {
    const text = Buffer.from('hello verity '.repeat(1000));
    expect(await decodeBody(gzipSync(text), 'gzip', MiB)).toEqual(text);
    expect(await decodeBody(brotliCompressSync(text), 'BR', MiB)).toEqual(text);
    expect(await decodeBody(deflateSync(text), 'deflate', MiB)).toEqual(text);
    expect(await decodeBody(deflateRawSync(text), 'deflate', MiB)).toEqual(text);
    expect(await decodeBody(brotliCompressSync(gzipSync(text)), 'gzip, br', MiB)).toEqual(text);
    expect(await decodeBody(text, 'identity', MiB)).toBe(text);
    expect(await decodeBody(text, null, MiB)).toBe(text);
  });

  it('refuses unknown and corrupt encodings with a clear reason', async () => {
    await expect(decodeBody(Buffer.from('x'), 'compress', MiB)).rejects.toMatchObject({ reason: 'unknown-encoding' });
    await expect(decodeBody(Buffer.from('not gzip at all'), 'gzip', MiB)).rejects.toBeInstanceOf(DecodeError);
  });

  it('bombs (gzip, brotli, deflate) stop at the cap, off the event loop', async () => {
    const zeros = Buffer.alloc(64 * MiB);
    const bombs = {
      gzip: gzipSync(zeros, { level: 9 }),
      br: brotliCompressSync(zeros, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }),
      deflate: deflateSync(zeros, { level: 9 }),
    };
    expect(bombs.br.length).toBeLessThan(64 * 1024);
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const rssBefore = process.memoryUsage().rss;
    for (const [encoding, bomb] of Object.entries(bombs)) {
      await expect(decodeBody(bomb, encoding, 8 * MiB)).rejects.toMatchObject({ reason: 'too-large' });
    }
    lag.disable();
    expect(lag.percentile(99) / 1e6).toBeLessThan(50);
    expect(lag.max / 1e6).toBeLessThan(500);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * MiB);
  });
});
