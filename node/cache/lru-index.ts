import type { StoredEntry } from './disk-store.js';

// The in-memory index of the disk store: entries by id in least-recently-used order (a Map
// iterates in insertion order, so re-inserting on use moves an entry to the back), variants by
// primary key, and the byte total. Pure; the store does the file work.

export const META_OVERHEAD_BYTES = 512;

export const entryWeight = (e: Pick<StoredEntry, 'size'>): number => e.size + META_OVERHEAD_BYTES;

export class LruIndex {
  private readonly byId = new Map<string, StoredEntry>();
  private readonly byKey = new Map<string, Set<string>>();
  private total = 0;

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.byId.size;
  }

  add(e: StoredEntry): void {
    this.remove(e.id);
    this.byId.set(e.id, e);
    let ids = this.byKey.get(e.key);
    if (!ids) this.byKey.set(e.key, (ids = new Set()));
    ids.add(e.id);
    this.total += entryWeight(e);
  }

  remove(id: string): StoredEntry | null {
    const e = this.byId.get(id);
    if (!e) return null;
    this.byId.delete(id);
    const ids = this.byKey.get(e.key);
    ids?.delete(id);
    if (ids?.size === 0) this.byKey.delete(e.key);
    this.total -= entryWeight(e);
    return e;
  }

  get(id: string): StoredEntry | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Marks an entry as just used. */
  touch(id: string): void {
    const e = this.byId.get(id);
    if (!e) return;
    this.byId.delete(id);
    this.byId.set(id, e);
  }

  variants(key: string): StoredEntry[] {
    return [...(this.byKey.get(key) ?? [])].map((id) => this.byId.get(id)).filter((e): e is StoredEntry => e !== undefined);
  }

  /** Ids to evict, least recently used first, so that `needed` more bytes fit under the cap. */
  victims(needed: number, capBytes: number): string[] {
    const out: string[] = [];
    let bytes = this.total;
    for (const [id, e] of this.byId) {
      if (bytes + needed <= capBytes) break;
      out.push(id);
      bytes -= entryWeight(e);
    }
    return out;
  }

  /** Ids, least recently used first. */
  order(): string[] {
    return [...this.byId.keys()];
  }
}
