import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { varyMatches } from './freshness.js';
import type { HeaderPairs, RequestHeaders } from './http-headers.js';

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
const META_OVERHEAD = 512;

function entryId(key: string, varyValues: Record<string, string>): string {
  const vary = JSON.stringify(Object.entries(varyValues).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(key).update('\0').update(vary).digest('hex');
}

const weight = (e: StoredEntry) => e.size + META_OVERHEAD;

async function writeAtomic(path: string, data: Buffer | string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, path);
}

async function loadEntries(dir: string): Promise<StoredEntry[]> {
  const names = await readdir(dir);
  const entries: StoredEntry[] = [];
  for (const name of names) {
    if (name.endsWith('.tmp')) {
      await unlink(join(dir, name)).catch(() => undefined);
      continue;
    }
    if (!name.endsWith('.json') || name === LRU_FILE) continue;
    const id = name.slice(0, -5);
    try {
      const meta = JSON.parse(await readFile(join(dir, name), 'utf8')) as StoredEntry;
      const size = (await stat(join(dir, `${id}.body`))).size;
      if (meta.id !== id || meta.size !== size) throw new Error('inconsistent entry');
      entries.push(meta);
    } catch {
      // A half-written or damaged entry is dropped, never served.
      await unlink(join(dir, name)).catch(() => undefined);
      await unlink(join(dir, `${id}.body`)).catch(() => undefined);
    }
  }
  return entries;
}

async function loadOrder(dir: string): Promise<string[]> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(dir, LRU_FILE), 'utf8'));
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export async function openDiskStore(dir: string, capBytes: number): Promise<DiskStore> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const loaded = await loadEntries(dir);
  const order = await loadOrder(dir);
  const rank = new Map(order.map((id, i) => [id, i]));
  loaded.sort((a, b) => (rank.get(a.id) ?? -1) - (rank.get(b.id) ?? -1) || a.responseTimeMs - b.responseTimeMs);
  // Map iteration order is insertion order: the first entry is the least recently used.
  const lru = new Map<string, StoredEntry>(loaded.map((e) => [e.id, e]));
  const byKey = new Map<string, Set<string>>();
  let bytes = 0;
  const index = (e: StoredEntry) => {
    lru.set(e.id, e);
    let ids = byKey.get(e.key);
    if (!ids) byKey.set(e.key, (ids = new Set()));
    ids.add(e.id);
    bytes += weight(e);
  };
  const unindex = (id: string): StoredEntry | null => {
    const e = lru.get(id);
    if (!e) return null;
    lru.delete(id);
    byKey.get(e.key)?.delete(id);
    if (byKey.get(e.key)?.size === 0) byKey.delete(e.key);
    bytes -= weight(e);
    return e;
  };
  lru.clear();
  for (const e of loaded) index(e);

  const removeFiles = async (id: string) => {
    await unlink(join(dir, `${id}.json`)).catch(() => undefined);
    await unlink(join(dir, `${id}.body`)).catch(() => undefined);
  };
  const evictFor = async (needed: number) => {
    for (const id of lru.keys()) {
      if (bytes + needed <= capBytes) break;
      unindex(id);
      await removeFiles(id);
    }
  };
  await evictFor(0);

  return {
    find(key, headers) {
      for (const id of byKey.get(key) ?? []) {
        const e = lru.get(id);
        if (e && varyMatches(e.varyValues, headers)) {
          lru.delete(id);
          lru.set(id, e);
          return e;
        }
      }
      return null;
    },
    readBody: (entry) => readFile(join(dir, `${entry.id}.body`)),
    async put(input, body) {
      const entry: StoredEntry = { ...input, id: entryId(input.key, input.varyValues), size: body.length };
      if (weight(entry) > capBytes) return null;
      // A response varying on other headers than the stored variants makes those obsolete.
      const names = JSON.stringify(Object.keys(entry.varyValues).sort());
      for (const id of [...(byKey.get(entry.key) ?? [])]) {
        const other = lru.get(id);
        if (id === entry.id || (other && JSON.stringify(Object.keys(other.varyValues).sort()) !== names)) {
          unindex(id);
          if (id !== entry.id) await removeFiles(id);
        }
      }
      await evictFor(weight(entry));
      await writeAtomic(join(dir, `${entry.id}.body`), body);
      await writeAtomic(join(dir, `${entry.id}.json`), JSON.stringify(entry));
      if (lru.has(entry.id)) unindex(entry.id);
      index(entry);
      await evictFor(0);
      return entry;
    },
    async refresh(entry, headers, timing) {
      const next: StoredEntry = { ...entry, headers, ...timing };
      if (!lru.has(entry.id)) return next;
      await writeAtomic(join(dir, `${entry.id}.json`), JSON.stringify(next));
      unindex(entry.id);
      index(next);
      return next;
    },
    async remove(id) {
      if (unindex(id)) await removeFiles(id);
    },
    stats: () => ({ bytes, entries: lru.size, capBytes }),
    async close() {
      await writeAtomic(join(dir, LRU_FILE), JSON.stringify([...lru.keys()]));
    },
  };
}
