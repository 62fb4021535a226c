import { createHash } from 'node:crypto';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

// Integrity is about content, not transfer: hashes are taken over the bytes without their
// Content-Encoding, on the origin's side and the node's alike, so gzip at either end (or a
// node compressing differently) is not a mismatch.

/** The body without its content-encoding (null: unknown encoding, corrupt, or larger than `limit` decoded). */
export function decodeBody(body: Buffer, encoding: string | null, limit: number): Buffer | null {
  const e = (encoding ?? 'identity').trim().toLowerCase();
  if (e === 'identity' || e === '') return body;
  try {
    if (e === 'gzip' || e === 'x-gzip') return gunzipSync(body, { maxOutputLength: limit });
    if (e === 'br') return brotliDecompressSync(body, { maxOutputLength: limit });
    if (e === 'deflate') return inflateSync(body, { maxOutputLength: limit });
  } catch {
    return null;
  }
  return null;
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Does the visitor take this content-encoding? (q=0 refuses it.) */
export function acceptsEncoding(acceptEncoding: string | undefined, encoding: string): boolean {
  if (!acceptEncoding) return false;
  return acceptEncoding.split(',').some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return (name === encoding || name === '*') && (q === undefined || Number(q.slice(2)) > 0);
  });
}
