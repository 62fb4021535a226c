import { describe, expect, it } from 'vitest';
import type { StoredEntry } from '../../../node/cache/disk-store.js';
import { LruIndex, META_OVERHEAD_BYTES } from '../../../node/cache/lru-index.js';

function makeEntry(id: string, size: number, key = `k-${id}`): StoredEntry {
  return { id, key, varyValues: {}, status: 200, headers: [], requestTimeMs: 0, responseTimeMs: 0, size };
}

describe('LRU index', () => {
  it('counts bytes with the metadata overhead and picks the least recently used as victims', () => {
    const index = new LruIndex();
    for (const id of ['a', 'b', 'c']) index.add(makeEntry(id, 1000));
    expect(index.bytes).toBe(3 * (1000 + META_OVERHEAD_BYTES));
    index.touch('a');
    const cap = 3 * (1000 + META_OVERHEAD_BYTES);
    expect(index.victims(0, cap)).toEqual([]);
    expect(index.victims(1, cap)).toEqual(['b']);
    expect(index.victims(1600, cap)).toEqual(['b', 'c']);
  });

  it('keeps variants per key and forgets removed entries', () => {
    const index = new LruIndex();
    index.add(makeEntry('v1', 10, 'page'));
    index.add(makeEntry('v2', 10, 'page'));
    expect(index.variants('page').map((e) => e.id)).toEqual(['v1', 'v2']);
    index.remove('v1');
    expect(index.variants('page').map((e) => e.id)).toEqual(['v2']);
    index.remove('v2');
    expect(index.variants('page')).toEqual([]);
    expect(index.bytes).toBe(0);
  });

  it('replacing an entry does not count it twice', () => {
    const index = new LruIndex();
    index.add(makeEntry('a', 100));
    index.add(makeEntry('a', 300));
    expect(index.size).toBe(1);
    expect(index.bytes).toBe(300 + META_OVERHEAD_BYTES);
  });
});
