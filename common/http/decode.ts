import { brotliDecompress, gunzip, inflate, inflateRaw, type InputType, type ZlibOptions } from 'node:zlib';

// The one way anything of ours removes a Content-Encoding from bytes someone else sent: capped
// output (a 6 KiB brotli bomb must not become 4 GiB) and off the event loop (zlib's async calls
// run on libuv's thread pool), with at most a few decodings at once so a burst of them queues
// instead of filling memory.

export class DecodeError extends Error {
  constructor(readonly reason: 'too-large' | 'corrupt' | 'unknown-encoding', message: string) {
    super(message);
  }
}

type Decoder = (buf: InputType, opts: ZlibOptions, cb: (err: Error | null, out: Buffer) => void) => void;

const decoders: Record<string, Decoder> = { gzip: gunzip, 'x-gzip': gunzip, br: brotliDecompress as Decoder };

const MAX_AT_ONCE = 4;
let running = 0;
const waiting: Array<() => void> = [];

function slot(): Promise<void> {
  if (running < MAX_AT_ONCE) {
    running++;
    return Promise.resolve();
  }
  return new Promise((resolve) => waiting.push(resolve));
}

function release(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}

function run(decoder: Decoder, body: Buffer, maxOutputLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    decoder(body, { maxOutputLength, chunkSize: 64 * 1024 }, (err, out) => {
      if (!err) return resolve(out);
      const code = (err as NodeJS.ErrnoException).code;
      reject(code === 'ERR_BUFFER_TOO_LARGE' ? new DecodeError('too-large', `decoded body exceeds ${maxOutputLength} bytes`) : new DecodeError('corrupt', err.message));
    });
  });
}

/** `deflate` is zlib-wrapped by the RFC, raw by some servers: try both, as browsers do. */
async function inflateEither(body: Buffer, max: number): Promise<Buffer> {
  try {
    return await run(inflate as Decoder, body, max);
  } catch (err) {
    if (err instanceof DecodeError && err.reason === 'too-large') throw err;
    return run(inflateRaw as Decoder, body, max);
  }
}

/**
 * The body without its Content-Encoding (a list like `gzip, br` is undone right to left).
 * Rejects with DecodeError: over `maxOutputLength`, corrupt, or an encoding we do not know.
 */
export async function decodeBody(body: Buffer, contentEncoding: string | null | undefined, maxOutputLength: number): Promise<Buffer> {
  const codings = (contentEncoding ?? '').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
  let out = body;
  for (const coding of codings.reverse()) {
    const decoder = decoders[coding];
    if (!decoder && coding !== 'deflate') throw new DecodeError('unknown-encoding', `unknown content-encoding ${coding}`);
    await slot();
    try {
      out = decoder ? await run(decoder, out, maxOutputLength) : await inflateEither(out, maxOutputLength);
    } finally {
      release();
    }
  }
  if (out.length > maxOutputLength) throw new DecodeError('too-large', `body exceeds ${maxOutputLength} bytes`);
  return out;
}
