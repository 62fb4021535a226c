import type { FastifyReply, FastifyRequest } from 'fastify';
import { authOf } from '../../balancer/control/auth.js';
import type { SafeHtml } from '../views/html.js';

export function sendHtml(reply: FastifyReply, body: SafeHtml, status = 200): FastifyReply {
  return reply.code(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(body.value);
}

export function csrfOf(req: FastifyRequest): string | null {
  return authOf(req)?.csrfToken ?? null;
}

export function actorOf(req: FastifyRequest): string {
  return authOf(req)?.actor ?? 'dashboard';
}

/** Only local paths: a crafted ?next= must not send the admin to another site. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.includes('\\') || /[\r\n]/.test(next)) return '/';
  return next.length > 500 ? '/' : next;
}

export function notFound(reply: FastifyReply, what: string): FastifyReply {
  return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send(`${what} not found`);
}
