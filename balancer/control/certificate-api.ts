import type { FastifyInstance } from 'fastify';
import { loadCertificateStates } from '../../common/db/queries/acme.js';
import { logAdminAction } from '../../common/db/queries/admin-actions.js';
import { findSiteByHost } from '../../common/db/queries/sites.js';
import { isVerityError } from '../../common/errors.js';
import type { AcmeManager } from '../acme/manager.js';
import { certificateDue, renewAt } from '../acme/schedule.js';
import { sendError, unauthorized, writer } from './api-helpers.js';
import { requireAdmin } from './auth.js';
import type { ControlPlugin } from './types.js';

// Admin endpoints for a site's certificate: what is served and when it renews, and (with ACME)
// replacing it with a fresh key and revoking the old one.

export function certificateApiPlugin(acme: AcmeManager | null): ControlPlugin {
  return async (app, deps) => {
    await app.register(async (api: FastifyInstance) => {
      api.addHook('onRequest', requireAdmin(deps, unauthorized));
      api.get<{ Params: { host: string } }>('/api/v1/sites/:host/certificate', async (req, reply) => {
        const site = await findSiteByHost(deps.pool, req.params.host);
        if (!site) return sendError(reply, 404, 'not_found', 'no site has this host');
        const [state] = await loadCertificateStates(deps.pool, site.id);
        const c = state?.certificate ?? null;
        return {
          host: site.host, source: c?.source ?? null, serial: c?.serial ?? null, notBefore: c?.notBefore.toISOString() ?? null, notAfter: c?.notAfter.toISOString() ?? null,
          renewAt: c && c.source === 'acme' ? renewAt(c.notBefore, c.notAfter).toISOString() : null,
          acme: acme !== null && state !== undefined && certificateDue(state, new Date(deps.now())).reason !== "the owner's own certificate",
          failures: state?.attempt?.failures ?? 0, lastError: state?.attempt?.lastError ?? null, retryAt: state?.attempt?.retryAt?.toISOString() ?? null,
        };
      });
      api.post<{ Params: { host: string } }>('/api/v1/sites/:host/certificate/revoke', async (req, reply) => {
        const auth = writer(req, reply, req.body);
        if (!auth) return reply;
        if (!acme) return sendError(reply, 409, 'no_acme', 'this balancer has no --acme-directory');
        const site = await findSiteByHost(deps.pool, req.params.host);
        if (!site) return sendError(reply, 404, 'not_found', 'no site has this host');
        try {
          const done = await acme.replace(site.id);
          await logAdminAction(deps.pool, { actor: auth.actor, action: 'certificate_revoke', targetKind: 'site', targetId: site.id, reason: `revoked ${done.revokedSerial}, now ${done.serial}`, detail: { host: site.host, ...done } });
          return done;
        } catch (err) {
          if (isVerityError(err, 'SITE_ERR_UNKNOWN')) return sendError(reply, 409, 'no_acme_certificate', err.message);
          return sendError(reply, 502, 'acme_failed', (err as Error).message);
        }
      });
    });
  };
}
