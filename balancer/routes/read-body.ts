import type { IncomingMessage } from 'node:http';

export type BodyResult =
  | { ok: true; body: Buffer }
  | { ok: false; failure: 'truncated' | 'too-large' | 'reset'; received: number };

/**
 * Reads a whole upstream body, at most `limit` bytes. A body that ends before its declared
 * length (or before its final chunk) is `truncated`, never a short success.
 */
export function readBody(body: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (r: BodyResult): void => {
      if (done) return;
      done = true;
      body.removeListener('data', onData);
      resolve(r);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit) {
        finish({ ok: false, failure: 'too-large', received });
        body.destroy();
        return;
      }
      chunks.push(chunk);
    };
    body.on('data', onData);
    body.on('end', () => {
      if (body.complete) finish({ ok: true, body: Buffer.concat(chunks, received) });
      else finish({ ok: false, failure: 'truncated', received });
    });
    body.on('error', () => finish({ ok: false, failure: body.complete ? 'reset' : 'truncated', received }));
    body.on('close', () => {
      if (!body.complete) finish({ ok: false, failure: 'truncated', received });
    });
  });
}
