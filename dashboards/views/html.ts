// The one escaping helper. Every page is built with the `html` tag: interpolated values are
// escaped unless they are already SafeHtml (made by `html` itself), so attacker-controlled
// strings (node names, page fragments, URLs from audits) can only ever appear as text.

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type Html = SafeHtml;
export type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => entities[c] ?? c);
}

function render(v: Interpolation): string {
  if (v instanceof SafeHtml) return v.value;
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Markup we built ourselves from numbers and constants (e.g. the server-side SVG map). */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** JSON for a data-* attribute: the html tag escapes it like any other text. */
export function jsonAttr(value: unknown): string {
  return JSON.stringify(value);
}

/** Path segment for links built from ids. */
export function seg(s: string): string {
  return encodeURIComponent(s);
}
