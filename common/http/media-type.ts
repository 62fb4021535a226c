// Media types judged by meaning, not spelling: `TEXT/HTML; Charset=UTF-8` is HTML, and so is a
// body whose first bytes are HTML whatever its label says, because browsers sniff too (WHATWG
// MIME Sniffing §7.1). Everything that decides anything by type goes through here.

export interface MediaType {
  /** `type/subtype`, lower case, parameters dropped ('' when absent or malformed). */
  essence: string;
  params: Record<string, string>;
}

export function parseMediaType(value: string | string[] | undefined | null): MediaType {
  const raw = Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
  const [head, ...rest] = raw.split(';');
  const essence = (head ?? '').trim().toLowerCase();
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { essence: /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(essence) ? essence : '', params };
}

const HTML_ESSENCES = new Set(['text/html', 'application/xhtml+xml']);

/** The tags the WHATWG sniffer takes as the start of an HTML document. */
const HTML_STARTS = ['<!doctype html', '<html', '<head', '<script', '<iframe', '<h1', '<div', '<font', '<table', '<a', '<style', '<title', '<b', '<body', '<br', '<p', '<!--'];

/** Do these bytes start like HTML (after whitespace), as a browser's sniffer would decide? */
export function sniffsAsHtml(body: Buffer): boolean {
  let i = 0;
  // A UTF-8 byte order mark, then whitespace.
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) i = 3;
  while (i < body.length && (body[i] === 0x09 || body[i] === 0x0a || body[i] === 0x0c || body[i] === 0x0d || body[i] === 0x20)) i++;
  const head = body.subarray(i, i + 16).toString('latin1').toLowerCase();
  return HTML_STARTS.some((tag) => {
    if (!head.startsWith(tag)) return false;
    const next = head.charCodeAt(tag.length);
    // The tag must end there: a space or '>' ('<!--' needs nothing after it).
    return tag === '<!--' || next === 0x20 || next === 0x3e || Number.isNaN(next);
  });
}

/** HTML by label (any spelling) or by content. */
export function isHtml(contentType: string | string[] | undefined | null, body?: Buffer): boolean {
  if (HTML_ESSENCES.has(parseMediaType(contentType).essence)) return true;
  return body !== undefined && sniffsAsHtml(body);
}
