import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { nodeActions } from '../../common/db/queries/admin-actions.js';
import type { NodeRecord } from '../../common/db/queries/nodes.js';
import { isVerityError } from '../../common/errors.js';
import { authOf, csrfValid, type AdminAuth } from './auth.js';

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => uuidPattern.test(s);

export function sendError(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').send({ error, message });
}

export function unauthorized(_req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.header('www-authenticate', 'Bearer realm="verity"')
    .code(401).header('cache-control', 'no-store')
    .send({ error: 'unauthorized', message: 'send Authorization: Bearer <admin token> or log in to the dashboard' });
}

/** The authenticated caller of a state-changing request, or null after answering 401/403. */
export function writer(req: FastifyRequest, reply: FastifyReply, body: unknown): AdminAuth | null {
  const auth = authOf(req);
  if (!auth) {
    void unauthorized(req, reply);
    return null;
  }
  const submitted = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)._csrf : undefined;
  if (!csrfValid(req, auth, submitted)) {
    void sendError(reply, 403, 'csrf', 'missing or wrong CSRF token (send X-CSRF-Token) or cross-site request');
    return null;
  }
  return auth;
}

export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, reply: FastifyReply): T | null {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  void sendError(reply, 400, 'bad_request', issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid request');
  return null;
}

/** Domain errors become 404/400; anything else is the caller's 500. */
export function domainErrorStatus(err: unknown): { status: number; error: string; message: string } | null {
  if (isVerityError(err, 'NODE_ERR_UNKNOWN')) return { status: 404, error: 'not_found', message: err.message };
  if (isVerityError(err, 'SITE_ERR_UNKNOWN')) return { status: 404, error: 'not_found', message: err.message };
  if (isVerityError(err, 'ADMIN_ERR_NO_REASON')) return { status: 400, error: 'bad_request', message: err.message };
  return null;
}

export const nodeActionNames = nodeActions;

export interface NodeJson {
  id: string;
  name: string;
  status: NodeRecord['status'];
  integrity: number;
  availability: number;
  location: { lat: number | null; lon: number | null; country: string | null };
  /** What the node claimed, and the verdict (`status` ∈ passed failed skipped undeclared unchecked). */
  declaredLocation: { lat: number; lon: number } | null;
  locationCheck: { status: string; source: string; reason: string; checkedAt: string | null };
  sites: string[];
  lastSeenAt: string | null;
}

export function nodeJson(n: NodeRecord): NodeJson {
  return {
    id: n.id,
    name: n.name,
    status: n.status,
    integrity: n.integrity,
    availability: n.availability,
    location: n.location ? { lat: n.location.lat, lon: n.location.lon, country: n.location.country } : { lat: null, lon: null, country: n.locationCheck?.country ?? null },
    declaredLocation: n.declaredLocation,
    locationCheck: n.locationCheck
      ? { status: n.locationCheck.status, source: n.locationCheck.source, reason: n.locationCheck.reason, checkedAt: n.locationCheck.checkedAt ?? null }
      : { status: 'unchecked', source: 'declared', reason: 'not checked yet: the next registration checks it', checkedAt: null },
    sites: n.sites,
    lastSeenAt: n.lastSeenAt ? n.lastSeenAt.toISOString() : null,
  };
}
