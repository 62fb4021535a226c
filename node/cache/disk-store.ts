import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { varyMatches } from './freshness.js';
import type { HeaderPairs, RequestHeaders } from './http-headers.js';
import { LruIndex, entryWeight } from './lru-index.js';

// The node's cache on disk: one body file and one metadata file per stored response variant,
// a byte cap with least-recently-used eviction, and the LRU order saved on close so a restart
// keeps both the entries and their order.

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
}

export type NewEntry = Omit<StoredEntry, 'id' | 'size'>;

export interface DiskStore {
  /** The stored variant of `key` that may serve a request with these headers; marks it used. */
  find(key: string, headers: RequestHeaders): StoredEntry | null;
  readBody(entry: StoredEntry): Promise<Buffer>;
  /** Stores a response; null when it is larger than the whole cache. */
  put(entry: NewEntry, body: Buffer): Promise<StoredEntry | null>;
  /** After a 304: new headers and times for the same body. */
  refresh(entry: StoredEntry, headers: HeaderPairs, timing: { requestTimeMs: number; responseTimeMs: number }): Promise<StoredEntry>;
  remove(id: string): Promise<void>;
  stats(): { bytes: number; entries: number; capBytes: number };
  close(): Promise<void>;
}

const LRU_FILE = 'lru.json';

function entryId(key: string, varyValues: Record<string, string>): string {
  const vary = JSON.stringify(Object.entries(varyValues).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(key).update('\0').update(vary).digest('hex');
}

const varyShape = (e: Pick<StoredEntry, 'varyValues'>) => JSON.stringify(Object.keys(e.varyValues).sort());

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

class FileStore implements DiskStore {
  constructor(private readonly dir: string, private readonly capBytes: number, private readonly index: LruIndex) {}

  find(key: string, headers: RequestHeaders): StoredEntry | null {
    const match = this.index.variants(key).find((e) => varyMatches(e.varyValues, headers));
    if (!match) return null;
    this.index.touch(match.id);
    return match;
  }

  readBody(entry: StoredEntry): Promise<Buffer> {
    return readFile(join(this.dir, `${entry.id}.body`));
  }

  async put(input: NewEntry, body: Buffer): Promise<StoredEntry | null> {
    const entry: StoredEntry = { ...input, id: entryId(input.key, input.varyValues), size: body.length };
    if (entryWeight(entry) > this.capBytes) return null;
    // Variants stored under another Vary shape are obsolete: the origin changed what it varies on.
    for (const other of this.index.variants(entry.key)) {
      if (other.id !== entry.id && varyShape(other) !== varyShape(entry)) await this.remove(other.id);
    }
    this.index.remove(entry.id);
    await this.evict(entryWeight(entry));
    await writeAtomic(join(this.dir, `${entry.id}.body`), body);
    await writeAtomic(join(this.dir, `${entry.id}.json`), JSON.stringify(entry));
    this.index.add(entry);
    // Concurrent puts may each have made room for themselves only.
    await this.evict(0);
    return entry;
  }

  async refresh(entry: StoredEntry, headers: HeaderPairs, timing: { requestTimeMs: number; responseTimeMs: number }): Promise<StoredEntry> {
    const next: StoredEntry = { ...entry, headers, ...timing };
    if (!this.index.has(entry.id)) return next;
    await writeAtomic(join(this.dir, `${entry.id}.json`), JSON.stringify(next));
    this.index.add(next);
    return next;
  }

  async remove(id: string): Promise<void> {
    if (this.index.remove(id)) await removeFiles(this.dir, id);
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
