import { createSecureContext, type SecureContext } from 'node:tls';
import { ACME_CHALLENGE_CHANNEL, loadChallenge, loadChallenges, type StoredChallenge } from '../../common/db/queries/acme.js';
import { CERTIFICATE_CHANGED_CHANNEL, loadAllCertificates, loadSiteCertificate, sealContext, type StoredCertificate } from '../../common/db/queries/certificates.js';
import type { Queryable } from '../../common/db/pool.js';
import type { Logger } from '../../common/log.js';
import type { SecretBox } from '../../common/tls/secret-box.js';
import type { ExtraChannel } from '../registry/sync.js';

// Every balancer (every worker) serves every site's certificate: they live in PostgreSQL, keys
// sealed, and this store keeps them in memory as TLS contexts, following NOTIFY. So do the ACME
// challenges in progress: whichever balancer the CA reaches answers them. Reads are the
// handshake path: synchronous, no I/O.

export interface ServedCertificate {
  context: SecureContext;
  serial: string;
  notAfter: Date;
}

/** The token's context for a TLS-ALPN-01 challenge certificate (acme/ seals it under this). */
export function challengeSealContext(token: string): string {
  return `acme-challenge:${token}`;
}

export class CertStore {
  private bySite = new Map<string, ServedCertificate>();
  private httpTokens = new Map<string, { host: string; keyAuthorization: string }>();
  private alpnByHost = new Map<string, { token: string; context: SecureContext }>();
  private tokenHost = new Map<string, string>();

  constructor(private readonly o: { db: Queryable; box: SecretBox; log: Logger; now: () => number }) {}

  /** Per handshake: the site's certificate, if it has one. */
  forSite(siteId: string): ServedCertificate | undefined {
    return this.bySite.get(siteId);
  }

  /** Per request: the key authorization of an HTTP-01 challenge for this host. */
  httpChallenge(host: string, token: string): string | null {
    const c = this.httpTokens.get(token);
    return c && c.host === host ? c.keyAuthorization : null;
  }

  /** Per handshake: the TLS-ALPN-01 challenge certificate for this host. */
  alpnChallenge(host: string): SecureContext | null {
    return this.alpnByHost.get(host)?.context ?? null;
  }

  get size(): number {
    return this.bySite.size;
  }

  async loadAll(): Promise<void> {
    const [certs, challenges] = await Promise.all([loadAllCertificates(this.o.db), loadChallenges(this.o.db, new Date(this.o.now()))]);
    const next = new Map<string, ServedCertificate>();
    for (const c of certs) {
      const served = this.serve(c);
      if (served) next.set(c.siteId, served);
    }
    this.bySite = next;
    this.httpTokens.clear();
    this.alpnByHost.clear();
    this.tokenHost.clear();
    for (const c of challenges) this.addChallenge(c);
  }

  /** The two NOTIFY channels, for the registry sync's connection. */
  channels(): ExtraChannel[] {
    return [
      { channel: CERTIFICATE_CHANGED_CHANNEL, handle: (siteId) => this.follow(this.reloadSite(siteId)), resync: () => this.follow(this.loadAll()) },
      { channel: ACME_CHALLENGE_CHANNEL, handle: (token) => this.follow(this.reloadChallenge(token)), resync: () => undefined },
    ];
  }

  private follow(p: Promise<void>): void {
    p.catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'certificate store update failed'));
  }

  private serve(c: StoredCertificate): ServedCertificate | null {
    try {
      const key = this.o.box.open(c.keySealed, sealContext(c.siteId));
      return { context: createSecureContext({ cert: c.certPem, key }), serial: c.serial, notAfter: c.notAfter };
    } catch (err) {
      // One bad row must not stop the others from being served.
      this.o.log.error({ site: { host: c.host }, err: (err as Error).message }, 'a site certificate cannot be served');
      return null;
    }
  }

  private async reloadSite(siteId: string): Promise<void> {
    const c = await loadSiteCertificate(this.o.db, siteId);
    const served = c ? this.serve(c) : null;
    if (served) this.bySite.set(siteId, served);
    else this.bySite.delete(siteId);
  }

  private async reloadChallenge(token: string): Promise<void> {
    const c = await loadChallenge(this.o.db, token, new Date(this.o.now()));
    this.dropChallenge(token);
    if (c) this.addChallenge(c);
  }

  private dropChallenge(token: string): void {
    this.httpTokens.delete(token);
    const host = this.tokenHost.get(token);
    this.tokenHost.delete(token);
    if (host !== undefined && this.alpnByHost.get(host)?.token === token) this.alpnByHost.delete(host);
  }

  private addChallenge(c: StoredChallenge): void {
    this.tokenHost.set(c.token, c.host);
    if (c.kind === 'http-01') {
      this.httpTokens.set(c.token, { host: c.host, keyAuthorization: c.keyAuthorization });
      return;
    }
    if (c.certPem === null || c.keySealed === null) return;
    try {
      const key = this.o.box.open(c.keySealed, challengeSealContext(c.token));
      this.alpnByHost.set(c.host, { token: c.token, context: createSecureContext({ cert: c.certPem, key }) });
    } catch (err) {
      this.o.log.error({ site: { host: c.host }, err: (err as Error).message }, 'a TLS-ALPN-01 challenge cannot be served');
    }
  }
}
