// Templates for executable values (inline scripts, event handlers, style blocks and attributes).
// The origin's own variance is learned for data tokens only (strings, numbers, true/false/null):
// the code around them, its "skeleton", must be one the origin itself served. A state script
// whose JSON changes length between fetches still pins its code; a keylogger appended to it
// changes the skeleton. Pure.

export type Slot = string | null | { oneOf: string[] };

export interface CodeToken {
  text: string;
  data: boolean;
}

export interface CodeTemplate {
  shape: 'code';
  /** Every skeleton (code tokens only) the origin served at this place. */
  skeletons: string[];
  /** Data tokens present in every origin sample the same number of times (an IBAN, a currency; not the fields of a list whose length varies). */
  stableData: Array<[string, number]>;
  /** Position by position when all samples had the same token count; null otherwise. */
  fixed: Slot[] | null;
}

const identifier = /[A-Za-z_$\u0080-\uffff][\w$\u0080-\uffff]*/y;
const number = /\d[\w.]*|\.\d[\w.]*/y;
const dataWords = new Set(['true', 'false', 'null', 'undefined']);
/** Punctuation of data structures (object and array literals): it follows the data's shape. */
const dataPunctuation = new Set(['{', '}', '[', ']', ',', ':']);

function stringEnd(src: string, start: number): number {
  const quote = src[start];
  let i = start + 1;
  while (i < src.length && src[i] !== quote) i += src[i] === '\\' ? 2 : 1;
  return Math.min(src.length, i + 1);
}

function commentEnd(src: string, i: number): number {
  if (src.startsWith('//', i) || src.startsWith('<!--', i)) {
    const nl = src.indexOf('\n', i);
    return nl === -1 ? src.length : nl;
  }
  const close = src.indexOf('*/', i + 2);
  return close === -1 ? src.length : close + 2;
}

// Each script is lexed for learning and again for matching: once is enough (bounded cache).
const lexed = new Map<string, CodeToken[]>();

/** A lexer good enough for JavaScript and CSS: comments dropped, literals kept whole. */
export function codeTokens(src: string): CodeToken[] {
  const hit = lexed.get(src);
  if (hit) return hit;
  const tokens = lex(src);
  if (lexed.size > 2000) lexed.clear();
  lexed.set(src, tokens);
  return tokens;
}

function lex(src: string): CodeToken[] {
  const out: CodeToken[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (src.startsWith('/*', i) || src.startsWith('//', i) || src.startsWith('<!--', i)) {
      i = commentEnd(src, i);
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      const end = stringEnd(src, i);
      const text = src.slice(i, end);
      // A template literal with ${…} holds code: it is never data.
      out.push({ text, data: !(c === '`' && text.includes('${')) });
      i = end;
      continue;
    }
    number.lastIndex = i;
    const n = number.exec(src);
    if (n) {
      out.push({ text: n[0], data: true });
      i += n[0].length;
      continue;
    }
    identifier.lastIndex = i;
    const id = identifier.exec(src);
    if (id) {
      out.push({ text: id[0], data: dataWords.has(id[0]) });
      i += id[0].length;
      continue;
    }
    out.push({ text: c, data: false });
    i++;
  }
  return out;
}

export function skeletonOf(tokens: readonly CodeToken[]): string {
  return tokens.filter((t) => !t.data && !dataPunctuation.has(t.text)).map((t) => t.text).join(' ');
}

function dataCounts(tokens: readonly CodeToken[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of tokens) if (t.data) m.set(t.text, (m.get(t.text) ?? 0) + 1);
  return m;
}

export function exactCode(value: string): CodeTemplate {
  const tokens = codeTokens(value);
  return { shape: 'code', skeletons: [skeletonOf(tokens)], stableData: [...dataCounts(tokens)], fixed: tokens.map((t) => t.text) };
}

export function slotMatches(slot: Slot, token: string): boolean {
  if (slot === null) return true;
  if (typeof slot === 'string') return slot === token;
  return slot.oneOf.includes(token);
}

/** Two tokens at one place: data that varies is masked; anything else keeps its alternatives. */
export function mergeSlot(slot: Slot, token: string, isData: boolean): Slot {
  if (slotMatches(slot, token)) return slot;
  if (isData) return null;
  const known = typeof slot === 'string' ? [slot] : slot === null ? [] : slot.oneOf;
  return slot === null ? null : { oneOf: [...known, token] };
}

export function generalizeCode(t: CodeTemplate, value: string): CodeTemplate {
  const tokens = codeTokens(value);
  const skeleton = skeletonOf(tokens);
  const counts = dataCounts(tokens);
  const stableData = t.stableData.filter(([k, n]) => counts.get(k) === n);
  const fixed = t.fixed && t.fixed.length === tokens.length ? t.fixed.map((s, i) => mergeSlot(s, tokens[i]?.text ?? '', tokens[i]?.data ?? false)) : null;
  return { shape: 'code', skeletons: t.skeletons.includes(skeleton) ? t.skeletons : [...t.skeletons, skeleton], stableData, fixed };
}

export function matchesCode(t: CodeTemplate, value: string): boolean {
  const tokens = codeTokens(value);
  if (!t.skeletons.includes(skeletonOf(tokens))) return false;
  const counts = dataCounts(tokens);
  if (!t.stableData.every(([k, n]) => (counts.get(k) ?? 0) >= n)) return false;
  if (!t.fixed) return true;
  return t.fixed.length === tokens.length && t.fixed.every((s, i) => slotMatches(s, tokens[i]?.text ?? ''));
}

export function renderSlot(s: Slot): string {
  return s === null ? '⟨varies⟩' : typeof s === 'string' ? s : `⟨${s.oneOf.join('|')}⟩`;
}

export function renderCode(t: CodeTemplate): string {
  if (t.fixed) return t.fixed.map(renderSlot).join(' ');
  return `${t.skeletons[0] ?? ''} ⟨data varies⟩`;
}

export function isExactCode(t: CodeTemplate): boolean {
  return t.fixed !== null && t.fixed.every((s) => typeof s === 'string');
}
