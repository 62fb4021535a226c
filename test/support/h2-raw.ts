import { connect, type TLSSocket } from 'node:tls';

// A raw HTTP/2 client for hostile tests: frames and HPACK (literal fields only, no Huffman) by
// hand, so it can send what no well-behaved client library would (rapid resets, endless
// CONTINUATION frames, streams past the limit, oversized header lists) and read exactly what
// the server answered (GOAWAY and RST_STREAM codes, response HEADERS).

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 1, ACK: 1, END_HEADERS: 4 } as const;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

function int(value: number, prefixBits: number, first: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const str = (s: string): Buffer => Buffer.concat([Buffer.from(int(Buffer.byteLength(s), 7, 0)), Buffer.from(s, 'latin1')]);

/** A literal field without indexing, new name. */
export function field(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0]), str(name), str(value)]);
}

/** A GET's header block: :method GET, :scheme https, :path, :authority (indexed names), then extra fields. */
export function requestBlock(authority: string, path: string, extra: Array<[string, string]> = []): Buffer {
  return Buffer.concat([
    Buffer.from([0x82, 0x87]),
    Buffer.from(int(4, 4, 0)), str(path),
    Buffer.from(int(1, 4, 0)), str(authority),
    ...extra.map(([n, v]) => field(n, v)),
  ]);
}

const STATIC_STATUS: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };

/** :status of a response header block whose first field is :status (indexed, or literal with an indexed name). */
function firstStatus(block: Buffer): number | null {
  const b = block[0] ?? 0;
  if (b & 0x80) return STATIC_STATUS[b & 0x7f] ?? null;
  const nameIndex = b & 0x40 ? b & 0x3f : b & 0x0f;
  if (nameIndex < 8 || nameIndex > 14) return null;
  const len = (block[1] ?? 0) & 0x7f;
  return (block[1] ?? 0) & 0x80 ? null : Number(block.subarray(2, 2 + len).toString('latin1'));
}

export interface RawSession {
  socket: TLSSocket;
  /** GOAWAY error code received, if any. */
  goaway: number | null;
  /** RST_STREAM codes received, by code. */
  resets: Map<number, number>;
  /** Response HEADERS frames received. */
  responses: number;
  /** Their :status values (when it is the first field, as servers send it). */
  statuses: number[];
  closed: boolean;
  write(b: Buffer): boolean;
  /** Resolves when the server closed the connection, or after timeoutMs. */
  closedWithin(timeoutMs: number): Promise<boolean>;
}

export function rawSession(url: string, sni: string): Promise<RawSession> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port), servername: sni, ALPNProtocols: ['h2'], rejectUnauthorized: false }, () => {
      socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
      resolve(s);
    });
    let buffered = Buffer.alloc(0);
    const s: RawSession = {
      socket, goaway: null, resets: new Map(), responses: 0, statuses: [], closed: false,
      write: (b) => socket.write(b),
      closedWithin: (ms) => new Promise((done) => {
        if (s.closed) return done(true);
        const timer = setTimeout(() => done(false), ms);
        socket.once('close', () => {
          clearTimeout(timer);
          done(true);
        });
      }),
    };
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 9) {
        const len = buffered.readUIntBE(0, 3);
        if (buffered.length < 9 + len) break;
        const type = buffered[3];
        const flags = buffered[4] ?? 0;
        const payload = buffered.subarray(9, 9 + len);
        if (type === FRAME.GOAWAY) s.goaway ??= payload.readUInt32BE(4);
        if (type === FRAME.RST_STREAM) {
          const code = payload.readUInt32BE(0);
          s.resets.set(code, (s.resets.get(code) ?? 0) + 1);
        }
        if (type === FRAME.HEADERS) {
          s.responses++;
          const status = firstStatus(payload);
          if (status !== null) s.statuses.push(status);
        }
        if (type === FRAME.SETTINGS && (flags & FLAG.ACK) === 0) socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
        buffered = buffered.subarray(9 + len);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => (s.closed = true));
  });
}
