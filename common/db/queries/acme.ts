import type { Queryable } from '../pool.js';

// ACME state shared by every balancer (migration 0600): the account per directory, issuance
// attempts (retries with backoff) and the challenges in progress, which every balancer answers.

export const ACME_CHALLENGE_CHANNEL = 'verity_acme_challenge';

export type ChallengeKind = 'http-01' | 'tls-alpn-01';

export interface StoredChallenge {
  token: string;
  host: string;
  kind: ChallengeKind;
  keyAuthorization: string;
  certPem: string | null;
  keySealed: string | null;
}

export interface AcmeAccount {
  keySealed: string;
  accountUrl: string | null;
}

export async function loadAccount(db: Queryable, directoryUrl: string): Promise<AcmeAccount | null> {
  const { rows } = await db.query<{ key_sealed: string; account_url: string | null }>('SELECT key_sealed, account_url FROM acme_accounts WHERE directory_url = $1', [directoryUrl]);
  return rows[0] ? { keySealed: rows[0].key_sealed, accountUrl: rows[0].account_url } : null;
}

/** Stores the account key once; a concurrent first start keeps whichever came first. */
export async function saveAccount(db: Queryable, a: { directoryUrl: string; email: string | null; keySealed: string }): Promise<AcmeAccount> {
  await db.query('INSERT INTO acme_accounts (directory_url, email, key_sealed) VALUES ($1, $2, $3) ON CONFLICT (directory_url) DO NOTHING', [a.directoryUrl, a.email, a.keySealed]);
  return (await loadAccount(db, a.directoryUrl)) as AcmeAccount;
}

export async function saveAccountUrl(db: Queryable, directoryUrl: string, accountUrl: string): Promise<void> {
  await db.query('UPDATE acme_accounts SET account_url = $2 WHERE directory_url = $1', [directoryUrl, accountUrl]);
}

export async function putChallenge(db: Queryable, c: StoredChallenge & { expiresAt: Date }): Promise<void> {
  await db.query(
    `INSERT INTO acme_challenges (token, host, kind, key_authorization, cert_pem, key_sealed, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (token) DO UPDATE SET host = EXCLUDED.host, kind = EXCLUDED.kind, key_authorization = EXCLUDED.key_authorization,
       cert_pem = EXCLUDED.cert_pem, key_sealed = EXCLUDED.key_sealed, expires_at = EXCLUDED.expires_at`,
    [c.token, c.host, c.kind, c.keyAuthorization, c.certPem, c.keySealed, c.expiresAt],
  );
}

export async function removeChallenge(db: Queryable, token: string): Promise<void> {
  await db.query('DELETE FROM acme_challenges WHERE token = $1', [token]);
}

const challengeColumns = 'token, host, kind, key_authorization, cert_pem, key_sealed';
interface ChallengeRow { token: string; host: string; kind: ChallengeKind; key_authorization: string; cert_pem: string | null; key_sealed: string | null }
const toChallenge = (r: ChallengeRow): StoredChallenge => ({ token: r.token, host: r.host, kind: r.kind, keyAuthorization: r.key_authorization, certPem: r.cert_pem, keySealed: r.key_sealed });

export async function loadChallenge(db: Queryable, token: string, now: Date): Promise<StoredChallenge | null> {
  const { rows } = await db.query<ChallengeRow>(`SELECT ${challengeColumns} FROM acme_challenges WHERE token = $1 AND expires_at > $2`, [token, now]);
  return rows[0] ? toChallenge(rows[0]) : null;
}

export async function loadChallenges(db: Queryable, now: Date): Promise<StoredChallenge[]> {
  const { rows } = await db.query<ChallengeRow>(`SELECT ${challengeColumns} FROM acme_challenges WHERE expires_at > $1`, [now]);
  return rows.map(toChallenge);
}

export interface Attempt {
  failures: number;
  retryAt: Date | null;
}

export async function loadAttempts(db: Queryable): Promise<Map<string, Attempt>> {
  const { rows } = await db.query<{ site_id: string; failures: number; retry_at: Date | null }>('SELECT site_id::text AS site_id, failures, retry_at FROM acme_attempts');
  return new Map(rows.map((r) => [r.site_id, { failures: r.failures, retryAt: r.retry_at }]));
}

export async function recordAttempt(db: Queryable, siteId: string, a: { ok: boolean; error: string | null; retryAt: Date | null; now: Date }): Promise<void> {
  await db.query(
    `INSERT INTO acme_attempts (site_id, failures, retry_at, last_error, last_attempt_at) VALUES ($1, CASE WHEN $2 THEN 0 ELSE 1 END, $3, $4, $5)
     ON CONFLICT (site_id) DO UPDATE SET failures = CASE WHEN $2 THEN 0 ELSE acme_attempts.failures + 1 END, retry_at = $3, last_error = $4, last_attempt_at = $5`,
    [siteId, a.ok, a.retryAt, a.error, a.now],
  );
}

export interface CertificateState {
  siteId: string;
  host: string;
  certificate: { source: 'owner' | 'acme'; serial: string; certPem: string; notBefore: Date; notAfter: Date } | null;
  attempt: { failures: number; retryAt: Date | null; lastError: string | null } | null;
}

interface StateRow {
  site_id: string;
  host: string;
  source: 'owner' | 'acme' | null;
  serial: string | null;
  cert_pem: string | null;
  not_before: Date | null;
  not_after: Date | null;
  failures: number | null;
  retry_at: Date | null;
  last_error: string | null;
}

/** Every registered site with its certificate and issuance attempts (one site: `siteId`). */
export async function loadCertificateStates(db: Queryable, siteId?: string): Promise<CertificateState[]> {
  const { rows } = await db.query<StateRow>(
    `SELECT s.id::text AS site_id, s.host, c.source, c.serial, c.cert_pem, c.not_before, c.not_after, a.failures, a.retry_at, a.last_error
       FROM sites s LEFT JOIN site_certificates c ON c.site_id = s.id LEFT JOIN acme_attempts a ON a.site_id = s.id
      WHERE $1::uuid IS NULL OR s.id = $1::uuid ORDER BY s.host`,
    [siteId ?? null],
  );
  return rows.map((r) => ({
    siteId: r.site_id, host: r.host,
    certificate: r.source && r.serial && r.cert_pem && r.not_before && r.not_after ? { source: r.source, serial: r.serial, certPem: r.cert_pem, notBefore: r.not_before, notAfter: r.not_after } : null,
    attempt: r.failures === null ? null : { failures: r.failures, retryAt: r.retry_at, lastError: r.last_error },
  }));
}
