import type { Socket } from 'node:net';

// Reads a TLS connection's first record (the ClientHello) before any TLS library sees it, and
// puts it back: a CA validating a TLS-ALPN-01 challenge (RFC 8737) offers only the ALPN protocol
// `acme-tls/1`, and must be shown the challenge certificate instead of the site's. Node picks the
// certificate (SNI) before it knows the ALPN offer, so the choice is made here, on the bytes.

const RECORD_HEADER = 5;
const MAX_RECORD = 16_384 + 2_048;
/** The ALPN protocol name with its one-byte length, as it appears in the extension. */
const ACME_TLS_1 = Buffer.from('\x0aacme-tls/1', 'latin1');

export interface FirstRecord {
  bytes: Buffer;
  acmeTls1: boolean;
}

/**
 * Calls back with the first TLS record (or what arrived before the timeout, the peer closing, or
 * the record being too long) and leaves the bytes unread on the socket (unshift), so the TLS
 * server reads them as if nothing happened.
 */
export function peekFirstRecord(socket: Socket, timeoutMs: number, done: (r: FirstRecord | null) => void): void {
  const chunks: Buffer[] = [];
  let length = 0;
  let finished = false;
  const finish = (ok: boolean): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', onClose);
    if (!ok) return done(null);
    socket.pause();
    const bytes = Buffer.concat(chunks, length);
    socket.unshift(bytes);
    done({ bytes, acmeTls1: bytes[0] === 0x16 && bytes.includes(ACME_TLS_1) });
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    length += chunk.length;
    const first = chunks[0] as Buffer;
    const need = first.length >= RECORD_HEADER || length >= RECORD_HEADER ? RECORD_HEADER + Buffer.concat(chunks, length).readUInt16BE(3) : Infinity;
    if (length >= need || length >= MAX_RECORD || first[0] !== 0x16) finish(true);
  };
  const onClose = (): void => finish(false);
  const timer = setTimeout(() => {
    finish(false);
    socket.destroy();
  }, timeoutMs);
  socket.on('data', onData);
  socket.once('close', onClose);
}
