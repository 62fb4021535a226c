// Byte ranges (RFC 9110 §14), pure. The node understands one range per request, which is what
// the balancer asks for (piece-aligned ranges of large files); anything else it may ignore and
// answer whole, as the RFC allows.

/** A requested byte range before the representation's length is known. */
export type ByteRangeSpec = { kind: 'from'; start: number; end: number | null } | { kind: 'suffix'; length: number };

/** Inclusive byte positions. */
export interface ByteSpan {
  start: number;
  end: number;
}

/** What a stored 206 holds: a span of the whole representation, and its length when the origin said. */
export interface StoredPart extends ByteSpan {
  complete: number | null;
}

const MAX_POSITION = Number.MAX_SAFE_INTEGER;

/** One `bytes=` range, or null (absent, another unit, several ranges, or malformed). */
export function parseRange(value: string | null): ByteRangeSpec | null {
  if (value === null) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (!m) return null;
  const [first, last] = [m[1] ?? '', m[2] ?? ''];
  if (first === '' && last === '') return null;
  if (first === '') {
    const length = Number(last);
    return length > 0 && length <= MAX_POSITION ? { kind: 'suffix', length } : null;
  }
  const start = Number(first);
  const end = last === '' ? null : Number(last);
  if (start > MAX_POSITION || (end !== null && (end < start || end > MAX_POSITION))) return null;
  return { kind: 'from', start, end };
}

/** The span a range selects of a representation of `length` bytes; null when unsatisfiable. */
export function resolveRange(spec: ByteRangeSpec, length: number): ByteSpan | null {
  if (spec.kind === 'suffix') return length === 0 ? null : { start: Math.max(0, length - spec.length), end: length - 1 };
  if (spec.start >= length) return null;
  return { start: spec.start, end: Math.min(spec.end ?? length - 1, length - 1) };
}

/** `Content-Range: bytes a-b/len` of a single-part 206 (len may be `*`), or null. */
export function parseContentRange(value: string | null): StoredPart | null {
  if (value === null) return null;
  const m = /^\s*bytes (\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value);
  if (!m) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const complete = m[3] === '*' ? null : Number(m[3]);
  if (end < start || (complete !== null && end >= complete)) return null;
  return { start, end, complete };
}

/** The span a range selects within a stored part, when the part holds all of it. */
export function spanWithin(spec: ByteRangeSpec, part: StoredPart): ByteSpan | null {
  const within = (span: ByteSpan | null) => (span && span.start >= part.start && span.end <= part.end ? span : null);
  if (part.complete !== null) return within(resolveRange(spec, part.complete));
  // Without the representation's length only an explicit first-last range can be placed.
  return spec.kind === 'from' && spec.end !== null ? within({ start: spec.start, end: spec.end }) : null;
}

export function contentRange(span: ByteSpan, complete: number | null): string {
  return `bytes ${span.start}-${span.end}/${complete ?? '*'}`;
}
