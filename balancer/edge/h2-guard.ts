import type { ServerOptions } from 'node:http2';
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
