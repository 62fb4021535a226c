import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './api-helpers.js';
import { authOf, type AdminAuth } from './auth.js';

// What a caller may reach: admins everything; owners their own sites, the nodes serving them and
// those nodes' audits on their sites. Every route asks here before reading or acting.

export function isAdmin(auth: AdminAuth | null): boolean {
  return auth?.role === 'admin';
}

export function maySite(auth: AdminAuth | null, siteId: string | null | undefined): boolean {
  if (!auth) return false;
  if (auth.siteIds === null) return true;
  return typeof siteId === 'string' && auth.siteIds.includes(siteId);
}

/** A node's sites the caller may see: all for admins, the shared ones for owners. */
export function visibleSites<T extends { id: string }>(auth: AdminAuth | null, sites: readonly T[]): T[] {
  return sites.filter((s) => maySite(auth, s.id));
}

export function forbidden(reply: FastifyReply, message: string): FastifyReply {
  return sendError(reply, 403, 'forbidden', message);
}

/** An onRequest hook for admin-only routes (after requireAdmin has authenticated). */
export async function adminOnly(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (isAdmin(authOf(req))) return undefined;
  return forbidden(reply, 'only admins may do this; site owners manage their own sites (/api/v1/sites/HOST/…)');
}

/** The caller's site filter for list queries: null for admins (no filter). */
export function siteFilter(req: FastifyRequest): string[] | null {
  const auth = authOf(req);
  return auth ? auth.siteIds : [];
}
