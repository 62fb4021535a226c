// A response as a node relays it, and the named transforms of the tamper corpus.

export interface CapturedResponse {
  status: number;
  /** In wire order; names as the origin sent them. */
  headers: Array<[string, string]>;
  body: Buffer;
}

export interface TransformContext {
  /** Path and query of the request. */
  path: string;
  requestHeaders: Readonly<Record<string, string | string[] | undefined>>;
  random: () => number;
  /** Per-node memory (e.g. a stale cache) that survives between requests. */
  memory: Map<string, unknown>;
}

export interface ResponseKind {
  name: string;
  description: string;
  /** A page where the change is meaningful (tests audit this page). */
  samplePath: string;
  /** Whether this response is one the kind changes (HTML pages, one asset, …). */
  applies(path: string, res: CapturedResponse): boolean;
  transform(res: CapturedResponse, ctx: TransformContext): CapturedResponse;
}

/** A kind of tampering: the auditor must report it. `expect` names the finding kinds that prove it. */
export interface TamperKind extends ResponseKind {
  category: 'tamper';
  expect: string[];
  /** With a browser, one of these rendered findings must appear too (the change shows only once scripts run). */
  expectRendered?: string[];
}

/** A harmless difference: the auditor must pass it. */
export interface BenignKind extends ResponseKind {
  category: 'benign';
}

export function header(res: CapturedResponse, name: string): string | undefined {
  return res.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

export function withoutHeaders(res: CapturedResponse, names: string[]): Array<[string, string]> {
  const drop = new Set(names.map((n) => n.toLowerCase()));
  return res.headers.filter(([k]) => !drop.has(k.toLowerCase()));
}

export function isHtml(res: CapturedResponse): boolean {
  return (header(res, 'content-type') ?? '').includes('text/html') && res.status === 200;
}

/** Replaces the body and fixes Content-Length. */
export function withBody(res: CapturedResponse, body: string | Buffer): CapturedResponse {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  const headers = withoutHeaders(res, ['content-length']);
  headers.push(['content-length', String(buf.length)]);
  return { ...res, headers, body: buf };
}

/** An HTML transform as a string edit; only applies to successful HTML pages. */
export function htmlEdit(edit: (html: string, ctx: TransformContext) => string): Pick<ResponseKind, 'applies' | 'transform'> {
  return {
    applies: (_path, res) => isHtml(res),
    transform: (res, ctx) => withBody(res, edit(res.body.toString('utf8'), ctx)),
  };
}
