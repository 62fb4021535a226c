import { Agent } from 'node:https';
import * as acme from 'acme-client';
import type { ChallengeKind } from '../../common/db/queries/acme.js';

// The only file importing acme-client (RFC 8555): an account, an order for one host with the
// challenge types we answer (HTTP-01 on the plain port, TLS-ALPN-01 on the HTTPS port), and
// revocation. Challenges are published by the caller (to PostgreSQL, so every balancer answers).

export interface PublishedChallenge {
  kind: ChallengeKind;
  token: string;
  keyAuthorization: string;
  /** TLS-ALPN-01: the challenge certificate and its key (RFC 8737). */
  certPem: string | null;
  keyPem: string | null;
}

export interface ChallengeSink {
  publish(host: string, c: PublishedChallenge): Promise<void>;
  withdraw(token: string): Promise<void>;
}

export interface AcmeOptions {
  directoryUrl: string;
  email: string | null;
  accountKeyPem: string;
  accountUrl: string | null;
  /** Preferred challenge types, in order. */
  challenges: readonly ChallengeKind[];
  /** Extra CA to trust for the directory itself (PEM). */
  caPem: string | null;
}

export interface Issued {
  certPem: string;
  keyPem: string;
}

// acme-client retries a failed request itself, 5 times with growing delays (75 s in all); our
// manager already retries whole orders with backoff, so a request gets 2 quick retries here.
const settings = (acme.axios.defaults as { acmeSettings?: { retryMaxAttempts: number; retryDefaultDelay: number } }).acmeSettings;
if (settings) {
  settings.retryMaxAttempts = 2;
  settings.retryDefaultDelay = 1;
}
acme.axios.defaults.timeout = 30_000;

export function newAccountKey(): Promise<string> {
  return acme.crypto.createPrivateEcdsaKey('P-256').then((b) => b.toString('utf8'));
}

export class AcmeAccountClient {
  private readonly client: acme.Client;

  constructor(private readonly o: AcmeOptions) {
    // acme-client talks through its own axios instance; a private CA is trusted there only.
    if (o.caPem) acme.axios.defaults.httpsAgent = new Agent({ ca: o.caPem, keepAlive: false });
    this.client = new acme.Client({ directoryUrl: o.directoryUrl, accountKey: o.accountKeyPem, accountUrl: o.accountUrl ?? undefined, backoffAttempts: 10, backoffMin: 200, backoffMax: 5_000 });
  }

  /** The account's URL once it exists (created on first use). */
  accountUrl(): string | null {
    try {
      return this.client.getAccountUrl();
    } catch {
      return null;
    }
  }

  async issue(host: string, sink: ChallengeSink): Promise<Issued> {
    const [key, csr] = await acme.crypto.createCsr({ commonName: host, altNames: [host] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
    const certPem = await this.client.auto({
      csr, email: this.o.email ?? undefined, termsOfServiceAgreed: true, challengePriority: [...this.o.challenges], skipChallengeVerification: true,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        const kind = challenge.type as ChallengeKind;
        const token = (challenge as { token: string }).token;
        if (kind === 'tls-alpn-01') {
          const [alpnKey, alpnCert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization);
          return sink.publish(authz.identifier.value, { kind, token, keyAuthorization, certPem: alpnCert.toString('utf8'), keyPem: alpnKey.toString('utf8') });
        }
        return sink.publish(authz.identifier.value, { kind, token, keyAuthorization, certPem: null, keyPem: null });
      },
      challengeRemoveFn: async (_authz, challenge) => sink.withdraw((challenge as { token: string }).token),
    });
    return { certPem, keyPem: key.toString('utf8') };
  }

  /** Revokes a certificate this account was issued (RFC 8555 §7.6); reason 1: key compromise, 4: superseded. */
  async revoke(certPem: string, reason: 1 | 4): Promise<void> {
    await this.client.revokeCertificate(certPem, { reason });
  }
}
