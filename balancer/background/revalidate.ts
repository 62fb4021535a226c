import type { Logger } from '../../common/log.js';
import { decodeBody, sha256Hex } from '../integrity/decode.js';
import type { HashStore } from '../integrity/hash-store.js';
import type { RoutingTable } from '../registry/table.js';
import { fetchCopy } from './origin-fetch.js';

// An expired static-file hash with an ETag is revalidated in the background with a conditional
// GET: 304 → the hash holds for another TTL; 200 → the new content's hash; anything else → forget
// it (the next visitor is served by the origin, which teaches us again).

export function createRevalidator(deps: { table: RoutingTable; hashes: () => HashStore; log: Logger; now: () => number; maxBytes: number }) {
  return async (siteId: string, url: string, etag: string): Promise<void> => {
    const site = deps.table.siteById(siteId);
    if (!site) throw new Error('site gone');
    const target = new URL(site.origin.href.replace(/\/$/, '') + url);
    const res = await fetchCopy(target, { host: site.host, timeoutMs: 10_000, maxBytes: deps.maxBytes, headers: { 'if-none-match': etag } });
    const hashes = deps.hashes();
    if (res.status === 304) return hashes.touch(siteId, url, deps.now());
    const encoding = res.headers['content-encoding'];
    const content = res.status === 200 ? decodeBody(res.body, typeof encoding === 'string' ? encoding : null, deps.maxBytes) : null;
    if (!content) throw new Error(`origin answered ${res.status} to a revalidation`);
    const newEtag = res.headers.etag ?? null;
    hashes.learn(siteId, url, { kind: 'hash', sha256: sha256Hex(content), etag: newEtag, learnedAt: deps.now(), source: 'origin' });
    deps.log.debug({ url }, 'static file changed at the origin; new hash learned');
  };
}
