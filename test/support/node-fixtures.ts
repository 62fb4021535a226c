import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Pool } from '../../common/db/pool.js';
import { insertSite } from '../../common/db/queries/sites.js';
import { createJoinToken } from '../../common/db/queries/tokens.js';
import { nodeIdFor, rawPublicKey } from '../../common/protocol/node-api.js';
import type { NodeIdentity } from '../../node/identity.js';

/** An in-memory node identity (a real Ed25519 key pair). */
export function makeIdentity(): NodeIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = rawPublicKey(publicKey);
  return { nodeId: nodeIdFor(raw), publicKey: raw.toString('base64url'), privateKey: privateKey as KeyObject, keyPath: '(memory)', created: true, warning: null };
}

let siteCount = 0;

/** A site (host site-a.test, then site-2.test, ...) and a join token for it. */
export async function makeSiteWithToken(pool: Pool, o: { host?: string; origin?: string; uses?: number; ttlMs?: number } = {}) {
  siteCount += 1;
  const site = await insertSite(pool, { host: o.host ?? (siteCount === 1 ? 'site-a.test' : `site-${siteCount}.test`), origin: o.origin ?? 'http://127.0.0.1:9', privateRoutes: [] });
  const { token } = await createJoinToken(pool, { siteId: site.id, uses: o.uses ?? 1, ttlMs: o.ttlMs ?? 3_600_000 });
  return { site, token };
}
