import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { varyMatches } from './freshness.js';
import type { HeaderPairs, RequestHeaders } from './http-headers.js';
import { LruIndex, META_OVERHEAD_BYTES } from './lru-index.js';
import type { ByteSpan, StoredPart } from './range.js';

// The node's cache on disk: one body file and one metadata file per stored response (each
// variant, and each stored part of a partial response), a byte cap with least-recently-used
// eviction, and the LRU order saved on close so a restart keeps both the entries and their order.
// Bodies are written as they stream in, never held whole in memory; the bytes being written
// count against the cap, so the cache never holds more than --cache-size.

export interface StoredEntry {
  id: string;
  /** Primary key: host + path + query. */
  key: string;
  varyValues: Record<string, string>;
  status: number;
  headers: HeaderPairs;
  requestTimeMs: number;
  responseTimeMs: number;
  /** Body bytes. */
  size: number;
  /** A stored 206: which bytes of the representation the body holds. */
  part?: StoredPart | null;
}

export type NewEntry = Omit<StoredEntry, 'id' | 'size'>;

/** A body being written. `write` resolves false once the store gave up on it (full, failing disk). */
export interface EntryWriter {
  write(chunk: Buffer): Promise<boolean>;
  /** Stores the entry; null when it was given up or invalidated meanwhile. */
  commit(): Promise<StoredEntry | null>;
  abort(): Promise<void>;
}

export interface DiskStore {
  /** Stored responses for `key` whose Vary values fit these request headers. */
  candidates(key: string, headers: RequestHeaders): StoredEntry[];
  /** Every stored response for `key`. */
  variants(key: string): StoredEntry[];
  touch(id: string): void;
  /** The body (or a span of it, positions within this body); null when it is gone. */
  open(entry: StoredEntry, span?: ByteSpan): Promise<Readable | null>;
  writer(entry: NewEntry): EntryWriter;
  /** After a 304: new headers and times for the same body. */
  refresh(entry: StoredEntry, headers: HeaderPairs, timing: { requestTimeMs: number; responseTimeMs: number }): Promise<StoredEntry>;
  remove(id: string): Promise<void>;
  /** Drops everything stored for `key`, and whatever is being written for it now. */
  removeKey(key: string): Promise<number>;
  stats(): { bytes: number; entries: number; capBytes: number };
  close(): Promise<void>;
}

const LRU_FILE = 'lru.json';

function entryId(e: Pick<StoredEntry, 'key' | 'varyValues' | 'part'>): string {
  const vary = JSON.stringify(Object.entries(e.varyValues).sort(([a], [b]) => a.localeCompare(b)));
  const part = e.part ? `${e.part.start}-${e.part.end}` : '';
  return createHash('sha256').update(e.key).update('\0').update(vary).update('\0').update(part).digest('hex');
}

const varyShape = (e: Pick<StoredEntry, 'varyValues'>) => JSON.stringify(Object.keys(e.varyValues).sort());
const sameVariant = (a: StoredEntry, b: Pick<StoredEntry, 'varyValues'>) => JSON.stringify(Object.entries(a.varyValues).sort()) === JSON.stringify(Object.entries(b.varyValues).sort());
const etagOf = (e: Pick<StoredEntry, 'headers'>) => e.headers.find(([n]) => n.toLowerCase() === 'etag')?.[1] ?? null;

async function writeAtomic(path: string, data: Buffer | string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, path);
}

async function loadEntry(dir: string, id: string): Promise<StoredEntry | null> {
  try {
    const meta = JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as StoredEntry;
    const size = (await stat(join(dir, `${id}.body`))).size;
    return meta.id === id && meta.size === size ? meta : null;
  } catch {
    return null;
  }
}

/** Entries found on disk, least recently used first; damaged or half-written ones are deleted. */
async function loadEntries(dir: string): Promise<StoredEntry[]> {
  const entries: StoredEntry[] = [];
  for (const name of await readdir(dir)) {
    if (name.endsWith('.tmp')) await unlink(join(dir, name)).catch(() => undefined);
    if (!name.endsWith('.json') || name === LRU_FILE) continue;
    const id = name.slice(0, -5);
    const entry = await loadEntry(dir, id);
    if (entry) entries.push(entry);
    else await removeFiles(dir, id);
  }
  let order: string[] = [];
  try {
    const parsed: unknown = JSON.parse(await readFile(join(dir, LRU_FILE), 'utf8'));
    if (Array.isArray(parsed)) order = parsed.filter((x): x is string => typeof x === 'string');
  } catch {
    // No saved order (first start, or a crash): fall back to response times.
  }
  const rank = new Map(order.map((id, i) => [id, i]));
  return entries.sort((a, b) => (rank.get(a.id) ?? -1) - (rank.get(b.id) ?? -1) || a.responseTimeMs - b.responseTimeMs);
}

async function removeFiles(dir: string, id: string): Promise<void> {
  await unlink(join(dir, `${id}.json`)).catch(() => undefined);
  await unlink(join(dir, `${id}.body`)).catch(() => undefined);
}

interface Pending {
  key: string;
  cancelled: boolean;
}

class FileStore implements DiskStore {
  /** Bytes of bodies being written, counted against the cap before they are stored. */
  private reserved = 0;
  private readonly pending = new Set<Pending>();

  constructor(private readonly dir: string, private readonly capBytes: number, private readonly index: LruIndex) {}

  variants(key: string): StoredEntry[] {
    return this.index.variants(key);
  }

  candidates(key: string, headers: RequestHeaders): StoredEntry[] {
    return this.index.variants(key).filter((e) => varyMatches(e.varyValues, headers));
  }

  touch(id: string): void {
    this.index.touch(id);
  }

  async open(entry: StoredEntry, span?: ByteSpan): Promise<Readable | null> {
    let file: FileHandle;
    try {
      // Opened before anything is sent: a later eviction unlinks the name, never these bytes.
      file = await open(join(this.dir, `${entry.id}.body`), 'r');
    } catch {
      return null;
    }
    const size = (await file.stat()).size;
    if (size !== entry.size) {
      await file.close();
      return null;
    }
    return file.createReadStream({ start: span?.start ?? 0, end: span?.end ?? Math.max(0, size - 1) });
  }

  /** Room for `bytes` more under the cap, evicting the least recently used; false if there is none. */
  private async makeRoom(bytes: number): Promise<boolean> {
    for (const id of this.index.victims(this.reserved + bytes, this.capBytes)) await this.remove(id);
    if (this.index.bytes + this.reserved + bytes > this.capBytes) return false;
    this.reserved += bytes;
    return true;
  }

  writer(input: NewEntry): EntryWriter {
    const id = entryId(input);
    const tmp = join(this.dir, `${id}.${randomBytes(6).toString('hex')}.tmp`);
    const pending: Pending = { key: input.key, cancelled: false };
    this.pending.add(pending);
    let file: FileHandle | null = null;
    let size = 0;
    let held = 0;
    let failed = false;
    const release = () => {
      this.reserved -= held;
      held = 0;
      this.pending.delete(pending);
    };
    const giveUp = async () => {
      failed = true;
      await file?.close().catch(() => undefined);
      file = null;
      await unlink(tmp).catch(() => undefined);
      release();
    };
    return {
      write: async (chunk) => {
        if (failed || pending.cancelled) return false;
        const need = chunk.length + (held === 0 ? META_OVERHEAD_BYTES : 0);
        if (!(await this.makeRoom(need))) return giveUp().then(() => false);
        held += need;
        try {
          file ??= await open(tmp, 'w', 0o600);
          await file.write(chunk);
          size += chunk.length;
          return true;
        } catch {
          return giveUp().then(() => false);
        }
      },
      commit: async () => {
        if (failed || pending.cancelled) return giveUp().then(() => null);
        try {
          file ??= await open(tmp, 'w', 0o600);
          await file.close();
          file = null;
          const entry: StoredEntry = { ...input, id, size };
          await this.replaced(entry);
          await rename(tmp, join(this.dir, `${id}.body`));
          await writeAtomic(join(this.dir, `${id}.json`), JSON.stringify(entry));
          // Invalidated while the last bytes were written: the entry must not come back.
          if (pending.cancelled) return removeFiles(this.dir, id).then(() => giveUp()).then(() => null);
          release();
          this.index.add(entry);
          // Concurrent writers may each have counted on room the others took.
          for (const victim of this.index.victims(0, this.capBytes)) if (victim !== id) await this.remove(victim);
          return entry;
        } catch {
          return giveUp().then(() => null);
        }
      },
      abort: giveUp,
    };
  }

  /** What a new entry makes obsolete: the old copy, variants of another Vary shape, older parts. */
  private async replaced(entry: StoredEntry): Promise<void> {
    for (const other of this.index.variants(entry.key)) {
      const obsolete = other.id === entry.id
        || varyShape(other) !== varyShape(entry)
        // A complete response supersedes stored parts; a part of another version supersedes what it contradicts.
        || (sameVariant(other, entry) && ((!entry.part && other.part) || (entry.part && etagOf(other) !== etagOf(entry))));
      if (obsolete) await this.remove(other.id);
    }
  }

  async refresh(entry: StoredEntry, headers: HeaderPairs, timing: { requestTimeMs: number; responseTimeMs: number }): Promise<StoredEntry> {
    const next: StoredEntry = { ...entry, headers, ...timing };
    if (!this.index.has(entry.id)) return next;
    await writeAtomic(join(this.dir, `${entry.id}.json`), JSON.stringify(next));
    // Removed while we wrote (eviction, invalidation): leave nothing behind.
    if (!this.index.has(entry.id)) await removeFiles(this.dir, entry.id);
    else this.index.add(next);
    return next;
  }

  async remove(id: string): Promise<void> {
    if (this.index.remove(id)) await removeFiles(this.dir, id);
  }

  async removeKey(key: string): Promise<number> {
    for (const p of this.pending) if (p.key === key) p.cancelled = true;
    const ids = this.index.variants(key).map((e) => e.id);
    for (const id of ids) await this.remove(id);
    return ids.length;
  }

  stats() {
    return { bytes: this.index.bytes, entries: this.index.size, capBytes: this.capBytes };
  }

  async close(): Promise<void> {
    await writeAtomic(join(this.dir, LRU_FILE), JSON.stringify(this.index.order()));
  }

  async evict(needed: number): Promise<void> {
    for (const id of this.index.victims(needed, this.capBytes)) await this.remove(id);
  }
}

export async function openDiskStore(dir: string, capBytes: number): Promise<DiskStore> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const index = new LruIndex();
  for (const e of await loadEntries(dir)) index.add(e);
  const store = new FileStore(dir, capBytes, index);
  await store.evict(0);
  return store;
}
