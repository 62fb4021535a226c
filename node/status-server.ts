import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { describeError } from '../common/errors.js';
import type { RecheckResponse } from '../common/protocol/node-api.js';
import type { Evidence } from './balancer-client.js';
import { renderNodeMetrics } from './metrics.js';
import { renderStatusPage, type StatusView } from './status-page.js';

// The status page's HTTP side. Its two actions reach the balancer through signed requests:
// "request re-check" (a POST form, guarded against cross-site requests: a per-process token and
// a same-origin check, since any web page the volunteer visits could post to 127.0.0.1) and
// evidence downloads (served as data: sandboxed, never as a page).

export interface StatusActions {
  recheck(auditId?: string): Promise<RecheckResponse>;
  evidence(id: string): Promise<Evidence>;
}

const baseHeaders = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'" };
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function readForm(req: IncomingMessage, limit = 4096): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
      if (body.length > limit) req.destroy(new Error('form too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function tokenOk(given: string | null, csrf: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function postRecheck(req: IncomingMessage, res: ServerResponse, state: { csrf: string; notice: string | null }, actions: StatusActions): Promise<void> {
  const form = await readForm(req);
  if (!sameOrigin(req) || !tokenOk(form.get('csrf'), state.csrf)) {
    res.writeHead(403, { 'content-type': 'text/plain', ...baseHeaders });
    res.end('refused: this form only works from the status page itself\n');
    return;
  }
  const auditId = form.get('auditId') ?? undefined;
  try {
    const r = await actions.recheck(auditId && uuid.test(auditId) ? auditId : undefined);
    state.notice = `Re-check queued: ${r.site}${r.url} will be audited soon; the next re-check is possible after ${r.nextAllowedAt}.`;
  } catch (err) {
    state.notice = `Re-check not queued: ${describeError(err)}`;
  }
  res.writeHead(303, { location: '/', ...baseHeaders });
  res.end();
}

async function getEvidence(id: string, res: ServerResponse, actions: StatusActions): Promise<void> {
  try {
    const e = await actions.evidence(id);
    // Images as images; anything else as plain text, so a hostile fragment is only ever read.
    const type = /^image\/(png|jpeg|webp)$/i.test(e.contentType) ? e.contentType : e.contentType.includes('json') ? 'application/json' : 'text/plain; charset=utf-8';
    res.writeHead(200, { 'content-type': type, ...baseHeaders, 'content-security-policy': "default-src 'none'; sandbox" });
    res.end(e.body);
  } catch (err) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...baseHeaders });
    res.end(`${describeError(err)}\n`);
  }
}

function getOnly(path: string, res: ServerResponse, view: () => StatusView, state: { csrf: string; notice: string | null }): void {
  if (path === '/status.json') {
    res.writeHead(200, { 'content-type': 'application/json', ...baseHeaders });
    res.end(JSON.stringify(view()));
  } else if (path === '/healthz') {
    // Healthy while registered and not draining: what a supervisor (or Docker) should watch.
    const v = view();
    const ok = v.standing !== null && v.standing.status !== 'banned' && v.lastError === null;
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', ...baseHeaders });
    res.end(JSON.stringify({ ok, nodeId: v.nodeId, status: v.standing?.status ?? 'unregistered', lastError: v.lastError }));
  } else if (path === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', ...baseHeaders });
    res.end(renderNodeMetrics(view()));
  } else if (path === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...baseHeaders });
    res.end(renderStatusPage(view(), { csrf: state.csrf, notice: state.notice }));
  } else {
    res.writeHead(404, { 'content-type': 'text/plain', ...baseHeaders });
    res.end('not found\n');
  }
}

export function createStatusServer(view: () => StatusView, actions?: StatusActions): Server {
  const state = { csrf: randomBytes(24).toString('base64url'), notice: null as string | null };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const evidence = /^\/evidence\/([^/]+)$/.exec(path)?.[1];
    if (req.method === 'POST' && path === '/recheck' && actions) {
      postRecheck(req, res, state, actions).catch(() => res.destroy());
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET', ...baseHeaders });
      res.end();
    } else if (evidence !== undefined && actions && uuid.test(evidence)) {
      void getEvidence(evidence, res, actions);
    } else {
      getOnly(path, res, view, state);
    }
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}
