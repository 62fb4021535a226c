import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createTokenFor, MAX_TOKEN_USES, revokeToken, tokenTtlMs } from '../../balancer/control/admin-ops.js';
import { domainErrorStatus, isUuid } from '../../balancer/control/api-helpers.js';
import { authOf, csrfValid, type AdminAuth } from '../../balancer/control/auth.js';
import { challengeUrl } from '../../balancer/control/ownership.js';
import { maySite, siteFilter } from '../../balancer/control/scope.js';
import { addSite, siteInput, verifyClaim } from '../../balancer/control/site-ops.js';
import type { ControlDeps } from '../../balancer/control/types.js';
import { listAdminActions } from '../../common/db/queries/admin-actions.js';
import { listNodes } from '../../common/db/queries/nodes.js';
import { listClaims } from '../../common/db/queries/site-owners.js';
import { listSites } from '../../common/db/queries/sites.js';
import { listJoinTokens } from '../../common/db/queries/tokens.js';
import { adminLogPage, sitesPage, type SitesData } from '../views/sites.js';
import { csrfOf, safeNext, sendHtml, viewerOf } from './respond.js';

type FormRequest = FastifyRequest<{ Body: Record<string, unknown> | undefined }>;

async function sitesData(deps: ControlDeps, req: FastifyRequest, created: SitesData['created']): Promise<SitesData> {
  const auth = authOf(req);
  const [sites, nodes, tokens, claims] = await Promise.all([
    listSites(deps.pool), listNodes(deps.pool, siteFilter(req)), listJoinTokens(deps.pool), listClaims(deps.pool, auth?.userId ?? null, new Date(deps.now())),
  ]);
  const nodeCounts = new Map<string, number>();
  for (const n of nodes) for (const h of n.sites) nodeCounts.set(h, (nodeCounts.get(h) ?? 0) + 1);
  return {
    sites: sites.filter((s) => maySite(auth, s.id)), nodeCounts, tokens: tokens.filter((t) => maySite(auth, t.siteId)), claims,
    challengeUrls: new Map(claims.map((c) => [c.id, challengeUrl(c.origin, c.challengeToken)])), now: new Date(deps.now()), created, viewer: viewerOf(req),
  };
}

function intIn(v: unknown, min: number, max: number): number | null {
  const n = Number(v);
  return Number.isInteger(n) && n >= min && n <= max ? n : null;
}

/** The caller of a form post, after its CSRF check; null after answering 403. */
export function formAuth(req: FormRequest, reply: FastifyReply): AdminAuth | null {
  const auth = authOf(req);
  if (!auth || !csrfValid(req, auth, (req.body ?? {})._csrf)) {
    void reply.code(403).send('bad CSRF token: reload the page and try again');
    return null;
  }
  return auth;
}

/** A form's comma-separated globs as the API takes them. */
export const globsOf = (v: unknown): string[] | undefined => (typeof v === 'string' && v.trim() !== '' ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);

/** The message a refused form shows: a known domain error's, else rethrown. */
export function knownProblem(err: unknown): { status: number; message: string } {
  const known = domainErrorStatus(err);
  if (!known) throw err;
  return { status: known.status, message: known.message };
}

export function siteRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const render = async (req: FastifyRequest, reply: FastifyReply, flash: string | null, status = 200, created: SitesData['created'] = null) =>
    sendHtml(reply, sitesPage(await sitesData(deps, req, created), csrfOf(req), flash), status);

  app.get<{ Querystring: { revoked?: string; added?: string } }>('/sites', async (req, reply) =>
    render(req, reply, req.query.revoked === '1' ? 'Token revoked.' : req.query.added ? `Site ${req.query.added.slice(0, 253)} added.` : null));

  app.post<{ Body: Record<string, unknown> | undefined }>('/sites/add', async (req, reply) => {
    const auth = formAuth(req, reply);
    if (!auth) return reply;
    const b = req.body ?? {};
    const parsed = siteInput.safeParse({ host: b.host, origin: b.origin, private: globsOf(b.private), public: globsOf(b.public), dynamic: b.dynamic });
    if (!parsed.success) return render(req, reply, `Not added: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 400);
    try {
      const out = await addSite(deps, auth, parsed.data);
      if (out.kind === 'site') return reply.code(303).header('location', `/sites?added=${encodeURIComponent(out.site.host)}`).send();
      return render(req, reply, `Almost there: make your origin serve the file below, then press "Check and add the site".`, 202);
    } catch (err) {
      const p = knownProblem(err);
      return render(req, reply, `Not added: ${p.message}`, p.status);
    }
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> | undefined }>('/sites/claims/:id/verify', async (req, reply) => {
    const auth = formAuth(req, reply);
    if (!auth) return reply;
    try {
      const site = await verifyClaim(deps, auth, isUuid(req.params.id) ? req.params.id : '00000000-0000-0000-0000-000000000000');
      return reply.code(303).header('location', `/sites?added=${encodeURIComponent(site.host)}`).send();
    } catch (err) {
      const p = knownProblem(err);
      return render(req, reply, p.message, p.status);
    }
  });

  app.post<{ Body: Record<string, unknown> | undefined }>('/sites/tokens', async (req, reply) => {
    const auth = formAuth(req, reply);
    if (!auth) return reply;
    const body = req.body ?? {};
    const uses = intIn(body.uses, 1, MAX_TOKEN_USES);
    const ttl = tokenTtlMs(typeof body.ttl === 'string' ? body.ttl : undefined);
    if (uses === null || 'problem' in ttl || typeof body.site !== 'string') {
      return render(req, reply, 'problem' in ttl ? `Valid for: ${ttl.problem}.` : 'Uses must be 1–10000.', 400);
    }
    try {
      const created = await createTokenFor(deps, auth, body.site, uses, ttl.ms);
      return render(req, reply, null, 201, { token: created.token, site: created.siteHost });
    } catch (err) {
      const p = knownProblem(err);
      return render(req, reply, p.status === 404 ? 'That site does not exist.' : p.message, p.status);
    }
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> | undefined }>('/tokens/:id/revoke', async (req, reply) => {
    const auth = formAuth(req, reply);
    if (!auth) return reply;
    if (isUuid(req.params.id)) await revokeToken(deps, auth, req.params.id);
    const back = safeNext((req.body ?? {}).back);
    return reply.code(303).header('location', `${back === '/' ? '/sites' : back}?revoked=1`).send();
  });

  app.get('/admin-log', async (req, reply) => sendHtml(reply, adminLogPage(await listAdminActions(deps.pool, 500, siteFilter(req)), csrfOf(req), viewerOf(req))));
}
