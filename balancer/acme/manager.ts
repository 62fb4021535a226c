import { Counter, Histogram, type Registry } from 'prom-client';
import { loadAccount, loadCertificateStates, putChallenge, recordAttempt, removeChallenge, saveAccount, saveAccountUrl, type CertificateState, type ChallengeKind } from '../../common/db/queries/acme.js';
import { saveSiteCertificate, sealContext } from '../../common/db/queries/certificates.js';
import type { Pool } from '../../common/db/pool.js';
import { VerityError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { factsOf, leafOf } from '../../common/tls/certificate.js';
import type { SecretBox } from '../../common/tls/secret-box.js';
import { challengeSealContext } from '../tls/cert-store.js';
import { AcmeAccountClient, newAccountKey, type ChallengeSink } from './client.js';
import { certificateDue, renewAt, retryDelayMs } from './schedule.js';

// Automatic certificates (--acme-directory): every so often, one balancer at a time (an advisory
// lock: several balancers share the database), asks the CA for what registered sites need: a
// first certificate, or a renewal two thirds into the lifetime; failures are retried with
// backoff. Certificates go to PostgreSQL, and every balancer serves them (tls/cert-store.ts).

const ACME_LOCK_KEY = 0x61636d65; // "acme"

export interface AcmeManagerOptions {
  pool: Pool;
  log: Logger;
  box: SecretBox;
  metrics: Registry;
  now: () => number;
  directoryUrl: string;
  email: string | null;
  challenges: readonly ChallengeKind[];
  caPem: string | null;
  /** How often sites are looked at (default 30 s). */
  intervalMs?: number;
  /** Time every balancer gets to learn a published challenge (NOTIFY) before the CA is told to check (default 300 ms). */
  propagationMs?: number;
}

export interface RunReport {
  locked: boolean;
  issued: Array<{ host: string; reason: 'missing' | 'renewal'; serial: string; ms: number }>;
  failed: Array<{ host: string; error: string }>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function metricsOn(registry: Registry): { orders: Counter<'result'>; seconds: Histogram } {
  const orders = (registry.getSingleMetric('verity_acme_orders_total') as Counter<'result'> | undefined)
    ?? new Counter({ name: 'verity_acme_orders_total', help: 'certificate orders to the ACME CA by result', labelNames: ['result'], registers: [registry] });
  const seconds = (registry.getSingleMetric('verity_acme_issue_seconds') as Histogram | undefined)
    ?? new Histogram({ name: 'verity_acme_issue_seconds', help: 'time to get a certificate from the ACME CA', buckets: [0.5, 1, 2, 5, 10, 30, 60, 120], registers: [registry] });
  return { orders, seconds };
}

export class AcmeManager {
  private client: AcmeAccountClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RunReport> | null = null;
  private readonly metrics: ReturnType<typeof metricsOn>;

  constructor(private readonly o: AcmeManagerOptions) {
    this.metrics = metricsOn(o.metrics);
  }

  start(): void {
    const tick = (): void => {
      void this.runOnce().catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'ACME run failed'));
    };
    this.timer = setInterval(tick, this.o.intervalMs ?? 30_000);
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One look at every site, under the lock; returns what was done (locked: false when another balancer holds it). */
  runOnce(): Promise<RunReport> {
    this.running ??= this.locked(async () => this.issueDue()).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** A fresh certificate (new key) for the site, then the old one revoked; returns both serials. */
  async replace(siteId: string): Promise<{ revokedSerial: string; serial: string }> {
    const report = await this.locked(async (): Promise<RunReport & { revokedSerial?: string; serial?: string }> => {
      const [state] = await loadCertificateStates(this.o.pool, siteId);
      const old = state?.certificate;
      if (!state || !old || old.source !== 'acme') throw new VerityError('SITE_ERR_UNKNOWN', 'this site has no certificate from ACME to revoke');
      const issued = await this.issueFor(state, 'renewal');
      await (await this.account()).revoke(old.certPem, 4);
      this.o.log.info({ site: { host: state.host }, revoked: old.serial, serial: issued.serial }, 'ACME certificate replaced and the old one revoked');
      return { locked: true, issued: [issued], failed: [], revokedSerial: old.serial, serial: issued.serial };
    }, true);
    return { revokedSerial: report.revokedSerial ?? '', serial: report.serial ?? '' };
  }

  private async locked<T extends RunReport>(fn: () => Promise<T>, wait = false): Promise<T> {
    const client = await this.o.pool.connect();
    try {
      if (wait) await client.query('SELECT pg_advisory_lock($1)', [ACME_LOCK_KEY]);
      else if (!(await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [ACME_LOCK_KEY])).rows[0]?.locked) {
        return { locked: false, issued: [], failed: [] } as unknown as T;
      }
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [ACME_LOCK_KEY]);
      }
    } finally {
      client.release();
    }
  }

  private async issueDue(): Promise<RunReport> {
    const report: RunReport = { locked: true, issued: [], failed: [] };
    const now = new Date(this.o.now());
    for (const state of await loadCertificateStates(this.o.pool)) {
      const due = certificateDue(state, now);
      if (!due.due) continue;
      try {
        report.issued.push(await this.issueFor(state, due.reason));
      } catch (err) {
        const failures = (state.attempt?.failures ?? 0) + 1;
        const message = (err as Error).message.slice(0, 500);
        await recordAttempt(this.o.pool, state.siteId, { ok: false, error: message, retryAt: new Date(this.o.now() + retryDelayMs(failures)), now: new Date(this.o.now()) });
        this.metrics.orders.inc({ result: 'failed' });
        this.o.log.warn({ site: { host: state.host }, failures, err: message }, 'ACME could not get a certificate; retrying later');
        report.failed.push({ host: state.host, error: message });
      }
    }
    return report;
  }

  private async issueFor(state: CertificateState, reason: 'missing' | 'renewal'): Promise<RunReport['issued'][number]> {
    const started = Date.now();
    const account = await this.account();
    const issued = await account.issue(state.host, this.sink());
    await this.rememberAccountUrl(account);
    const facts = factsOf(leafOf(issued.certPem));
    await saveSiteCertificate(this.o.pool, { siteId: state.siteId, source: 'acme', certPem: issued.certPem, keySealed: this.o.box.seal(issued.keyPem, sealContext(state.siteId)), facts });
    await recordAttempt(this.o.pool, state.siteId, { ok: true, error: null, retryAt: null, now: new Date(this.o.now()) });
    const ms = Date.now() - started;
    this.metrics.orders.inc({ result: reason });
    this.metrics.seconds.observe(ms / 1000);
    this.o.log.info({ site: { host: state.host }, reason, serial: facts.serial, notAfter: facts.notAfter, renewAt: renewAt(facts.notBefore, facts.notAfter), ms }, 'ACME certificate issued');
    return { host: state.host, reason, serial: facts.serial, ms };
  }

  private sink(): ChallengeSink {
    const { pool, box } = this.o;
    return {
      publish: async (host, c) => {
        await putChallenge(pool, {
          token: c.token, host, kind: c.kind, keyAuthorization: c.keyAuthorization, certPem: c.certPem,
          keySealed: c.keyPem === null ? null : box.seal(c.keyPem, challengeSealContext(c.token)), expiresAt: new Date(this.o.now() + 3_600_000),
        });
        await sleep(this.o.propagationMs ?? 300);
      },
      withdraw: (token) => removeChallenge(pool, token),
    };
  }

  /** The account for this directory: its key made once, sealed, shared by every balancer. */
  private async account(): Promise<AcmeAccountClient> {
    if (this.client) return this.client;
    const { pool, box, directoryUrl } = this.o;
    const context = `acme-account:${directoryUrl}`;
    const stored = (await loadAccount(pool, directoryUrl)) ?? (await saveAccount(pool, { directoryUrl, email: this.o.email, keySealed: box.seal(await newAccountKey(), context) }));
    const client = new AcmeAccountClient({
      directoryUrl, email: this.o.email, accountKeyPem: box.open(stored.keySealed, context), accountUrl: stored.accountUrl, challenges: this.o.challenges, caPem: this.o.caPem,
    });
    this.client = client;
    this.accountUrlSaved = stored.accountUrl !== null;
    return client;
  }

  private accountUrlSaved = false;

  /** The account's URL, once the CA made it: later starts reuse the account instead of looking it up. */
  private async rememberAccountUrl(client: AcmeAccountClient): Promise<void> {
    const url = client.accountUrl();
    if (this.accountUrlSaved || !url) return;
    await saveAccountUrl(this.o.pool, this.o.directoryUrl, url);
    this.accountUrlSaved = true;
  }
}
