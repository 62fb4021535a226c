import type { Readable, Writable } from 'node:stream';
import type { EntryWriter, StoredEntry } from './disk-store.js';

// An origin body on its way to the requester and into the disk cache at once, one chunk at a
// time: the next chunk is read only when both have taken the last one, so a download of any
// size passes through in bounded memory, at the pace of the slower of the two. Every chunk in
// hand counts against one budget for the whole node; past it, reads wait.

/** Bytes held in memory by all bodies passing through at once. */
export interface BufferBudget {
  acquire(bytes: number): Promise<void>;
  release(bytes: number): void;
  held(): number;
  /** The most ever held at once (the figure the budget promises to bound). */
  peak(): number;
}

export function createBufferBudget(maxBytes: number): BufferBudget {
  let held = 0;
  let peak = 0;
  const waiting: { bytes: number; go: () => void }[] = [];
  const take = (bytes: number): boolean => {
    // One chunk always passes, so a chunk larger than the whole budget cannot stall forever.
    if (held > 0 && held + bytes > maxBytes) return false;
    held += bytes;
    peak = Math.max(peak, held);
    return true;
  };
  return {
    acquire: (bytes) => (waiting.length === 0 && take(bytes) ? Promise.resolve() : new Promise((go) => waiting.push({ bytes, go }))),
    release(bytes) {
      held = Math.max(0, held - bytes);
      while (waiting[0] && take(waiting[0].bytes)) waiting.shift()?.go();
    },
    held: () => held,
    peak: () => peak,
  };
}

/** Resolves true once the sink took the chunk, false if it is gone (the requester left). */
function deliver(sink: Writable, chunk: Buffer): Promise<boolean> {
  if (sink.destroyed || sink.writableEnded) return Promise.resolve(false);
  if (sink.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      sink.off('drain', onDrain);
      sink.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    sink.on('drain', onDrain);
    sink.on('close', onClose);
  });
}

/**
 * Copies `source` to `sink` (the requester; null for HEAD) and `writer` (the store; null when not
 * storing). Returns the stored entry, or null. A body cut short by the origin cuts the requester's
 * response too (never a short success) and stores nothing; a requester who leaves stops the copy.
 * The last chunk reaches the requester only once the entry is stored: a requester who saw the
 * whole body (Content-Length tells it when) and asks again finds the entry.
 */
export async function pump(source: Readable, sink: Writable | null, writer: EntryWriter | null, budget: BufferBudget): Promise<StoredEntry | null> {
  let delivering = sink !== null;
  let storing = writer !== null;
  let complete = true;
  let held: Buffer | null = null;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      // The budget counts the chunk being moved; the one held back (at most one per body, like a
      // stream's own buffer) is not, so a body never waits for budget while holding some.
      await budget.acquire(chunk.length);
      const previous: Buffer | null = held;
      held = chunk;
      try {
        [delivering, storing] = await Promise.all([
          delivering && sink && previous ? deliver(sink, previous) : delivering,
          storing && writer ? writer.write(chunk) : false,
        ]);
      } finally {
        budget.release(chunk.length);
      }
      if ((sink && !delivering) || (!sink && !storing)) {
        complete = false;
        source.destroy();
        break;
      }
    }
  } catch {
    complete = false;
  }
  const last = held as Buffer | null;
  if (!complete) {
    sink?.destroy(new Error('the origin body was cut short'));
    await writer?.abort();
    return null;
  }
  const entry = storing && writer ? await writer.commit() : null;
  if (!storing) await writer?.abort();
  if (sink && last) await deliver(sink, last);
  sink?.end();
  return entry;
}
