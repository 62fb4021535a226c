/** Where two byte strings first differ, and a short excerpt of each around that point. */
export function diffExcerpt(expected: Buffer, actual: Buffer, context = 80): { offset: number; expected: string; actual: string; expectedSize: number; actualSize: number } {
  const n = Math.min(expected.length, actual.length);
  let offset = 0;
  while (offset < n && expected[offset] === actual[offset]) offset++;
  const from = Math.max(0, offset - context / 2);
  const show = (b: Buffer): string => b.subarray(from, from + context).toString('utf8');
  return { offset, expected: show(expected), actual: show(actual), expectedSize: expected.length, actualSize: actual.length };
}
