import type { FastifyReply, FastifyRequest } from 'fastify';
import { authOf } from '../../balancer/control/auth.js';
import { html, type SafeHtml } from '../views/html.js';
import { page, type Viewer } from '../views/layout.js';

export function sendHtml(reply: FastifyReply, body: SafeHtml, status = 200): FastifyReply {
  return reply.code(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(body.value);
}

export function csrfOf(req: FastifyRequest): string | null {
  return authOf(req)?.csrfToken ?? null;
}

export function viewerOf(req: FastifyRequest): Viewer {
  return authOf(req)?.role === 'owner' ? 'owner' : 'admin';
}

/** An owner asked for something that is not theirs (another owner's site, an admin page). */
export function forbiddenPage(req: FastifyRequest, reply: FastifyReply, message: string): FastifyReply {
  const body = html`<h1>Not yours</h1><section class="card"><p class="error" role="alert">${message}</p><p><a href="/sites">Your sites</a></p></section>`;
  return sendHtml(reply, page({ title: 'Forbidden', nav: null, csrfToken: csrfOf(req), body, viewer: viewerOf(req) }), 403);
}

/** onRequest hook of the fleet-wide pages: admins only; an owner's start page is their sites. */
export async function adminPages(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (authOf(req)?.role !== 'owner') return undefined;
  if (req.method === 'GET' && req.url === '/') return reply.code(303).header('location', '/sites').send();
  return forbiddenPage(req, reply, 'Only admins see this page: site owners see their own sites, their audits and notifications.');
}

/** Only local paths: a crafted ?next= must not send the admin to another site. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.includes('\\') || /[\r\n]/.test(next)) return '/';
  return next.length > 500 ? '/' : next;
}

export function notFound(reply: FastifyReply, what: string): FastifyReply {
  return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send(`${what} not found`);
}
