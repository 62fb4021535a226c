import { describe, expect, it } from 'vitest';
import { contentRange, parseContentRange, parseRange, resolveRange, spanWithin } from '../../../node/cache/range.js';

describe('Range (RFC 9110 §14)', () => {
  it('parses one byte range of any form, and nothing else', () => {
    expect(parseRange('bytes=1048576-2097151')).toEqual({ kind: 'from', start: 1048576, end: 2097151 });
    expect(parseRange('bytes=5-')).toEqual({ kind: 'from', start: 5, end: null });
    expect(parseRange('bytes=-5')).toEqual({ kind: 'suffix', length: 5 });
    expect(parseRange('BYTES = 0 - 1')).toEqual({ kind: 'from', start: 0, end: 1 });
    for (const bad of [null, 'bytes=0-1,3-4', 'items=0-1', 'bytes=2-1', 'bytes=-0', 'bytes=-', 'bytes=a-b', 'bytes=99999999999999999999-']) expect(parseRange(bad)).toBeNull();
  });

  it('resolves a range against a length: clipped at the end, unsatisfiable past it', () => {
    expect(resolveRange({ kind: 'from', start: 0, end: 1 }, 11)).toEqual({ start: 0, end: 1 });
    expect(resolveRange({ kind: 'from', start: 5, end: 100 }, 11)).toEqual({ start: 5, end: 10 });
    expect(resolveRange({ kind: 'suffix', length: 100 }, 11)).toEqual({ start: 0, end: 10 });
    expect(resolveRange({ kind: 'from', start: 11, end: null }, 11)).toBeNull();
    expect(resolveRange({ kind: 'suffix', length: 1 }, 0)).toBeNull();
  });

  it('finds a range inside a stored part, when the part holds all of it', () => {
    const part = { start: 4, end: 9, complete: 10 };
    expect(spanWithin({ kind: 'from', start: 6, end: 8 }, part)).toEqual({ start: 6, end: 8 });
    expect(spanWithin({ kind: 'from', start: 6, end: null }, part)).toEqual({ start: 6, end: 9 });
    expect(spanWithin({ kind: 'suffix', length: 1 }, part)).toEqual({ start: 9, end: 9 });
    expect(spanWithin({ kind: 'from', start: 2, end: 5 }, part)).toBeNull();
    expect(spanWithin({ kind: 'from', start: 6, end: null }, { ...part, complete: null })).toBeNull();
    expect(spanWithin({ kind: 'from', start: 6, end: 7 }, { ...part, complete: null })).toEqual({ start: 6, end: 7 });
  });

  it('reads and writes Content-Range of a single part', () => {
    expect(parseContentRange('bytes 1048576-2097151/52428800')).toEqual({ start: 1048576, end: 2097151, complete: 52428800 });
    expect(parseContentRange('bytes 0-4/*')).toEqual({ start: 0, end: 4, complete: null });
    for (const bad of [null, 'bytes */10', 'bytes 5-4/10', 'bytes 0-10/10', 'items 0-1/2']) expect(parseContentRange(bad)).toBeNull();
    expect(contentRange({ start: 0, end: 1 }, 11)).toBe('bytes 0-1/11');
  });
});
