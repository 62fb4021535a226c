import { constants, type Http2ServerRequest, type Http2Session, type ServerOptions } from 'node:http2';
import type { PublicServerLimits } from './public-server.js';

// Limits of the HTTP/2 side, the counterpart of the HTTP/1.1 parser's: streams at once, header
// list size and count (the same 16 KB and 100 fields as HTTP/1.1), bounded session memory, and
// nghttp2's floods protections made explicit: a client that resets streams faster than the
// rate (CVE-2023-44487, "rapid reset"), sends too many CONTINUATION frames (CVE-2024-28182),
// too many invalid frames or keeps opening streams past the limit is sent GOAWAY.

export const H2_MAX_CONCURRENT_STREAMS = 100;

export function h2Limits(limits: PublicServerLimits): ServerOptions & { streamResetBurst: number; streamResetRate: number } {
  return {
    settings: { maxConcurrentStreams: H2_MAX_CONCURRENT_STREAMS, maxHeaderListSize: limits.maxHeaderSize, enablePush: false },
    // Pseudo-headers come on top of the visitor's own fields.
    maxHeaderListPairs: limits.maxHeaderCount + 8,
    maxSessionMemory: 10,
    maxSessionInvalidFrames: 100,
    maxSessionRejectedStreams: 100,
    streamResetBurst: 200,
    streamResetRate: 50,
    unknownProtocolTimeout: limits.headersTimeoutMs,
  };
}

/** Streams a client may cancel in a burst, per session, before it is cut off; then 10 a second. */
export const H2_CANCEL_BURST = 100;
const CANCEL_REFILL_PER_S = 10;

const meters = new WeakMap<Http2Session, { tokens: number; at: number }>();

/** One cancelled stream on this session; past the allowance: GOAWAY (ENHANCE_YOUR_CALM) and closed. */
function charge(session: Http2Session | undefined): void {
  if (!session || session.destroyed) return;
  const now = Date.now();
  const m = meters.get(session) ?? { tokens: H2_CANCEL_BURST, at: now };
  m.tokens = Math.min(H2_CANCEL_BURST, m.tokens + ((now - m.at) / 1000) * CANCEL_REFILL_PER_S) - 1;
  m.at = now;
  meters.set(session, m);
  if (m.tokens >= 0) return;
  session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
  session.destroy();
}

function onAborted(this: Http2ServerRequest['stream']): void {
  charge(this.session);
}

/**
 * Rapid reset defence at our level, whatever rate nghttp2 itself tolerates: a request starts
 * one turn of the event loop after its HEADERS frame, once nghttp2 has read what arrived with
 * it, so a stream the client already reset costs no upstream work; and a session whose client
 * keeps cancelling streams, before or after they started, is sent GOAWAY and closed.
 */
export function deferStart(req: Http2ServerRequest, start: () => void): void {
  setImmediate(startIfWanted, req, start);
}

function startIfWanted(req: Http2ServerRequest, start: () => void): void {
  const stream = req.stream;
  if (stream.closed || stream.destroyed) return charge(stream.session);
  // 'aborted': the peer reset the stream before our answer ended.
  stream.once('aborted', onAborted);
  start();
}
