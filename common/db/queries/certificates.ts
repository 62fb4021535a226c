import type { CertificateFacts } from '../../tls/certificate.js';
import type { Queryable } from '../pool.js';

// Site certificates (migration 0600). The key is stored sealed (common/tls/secret-box.ts) under
// the context `sealContext(siteId)`; the chain is public and stored as it is.

export const CERTIFICATE_CHANGED_CHANNEL = 'verity_certificate_changed';

export type CertificateSource = 'owner' | 'acme';

export interface StoredCertificate {
  siteId: string;
  host: string;
  source: CertificateSource;
  certPem: string;
  keySealed: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

interface Row {
  site_id: string;
  host: string;
  source: CertificateSource;
  cert_pem: string;
  key_sealed: string;
  serial: string;
  not_before: Date;
  not_after: Date;
}

const columns = 'c.site_id::text AS site_id, s.host, c.source, c.cert_pem, c.key_sealed, c.serial, c.not_before, c.not_after';

function toStored(r: Row): StoredCertificate {
  return { siteId: r.site_id, host: r.host, source: r.source, certPem: r.cert_pem, keySealed: r.key_sealed, serial: r.serial, notBefore: r.not_before, notAfter: r.not_after };
}

/** What a sealed site key is bound to: it opens for this site's row only. */
export function sealContext(siteId: string): string {
  return `site-certificate:${siteId}`;
}

export async function saveSiteCertificate(db: Queryable, c: { siteId: string; source: CertificateSource; certPem: string; keySealed: string; facts: CertificateFacts }): Promise<void> {
  await db.query(
    `INSERT INTO site_certificates (site_id, source, cert_pem, key_sealed, serial, not_before, not_after, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now())
     ON CONFLICT (site_id) DO UPDATE SET source = EXCLUDED.source, cert_pem = EXCLUDED.cert_pem, key_sealed = EXCLUDED.key_sealed,
       serial = EXCLUDED.serial, not_before = EXCLUDED.not_before, not_after = EXCLUDED.not_after, updated_at = now()`,
    [c.siteId, c.source, c.certPem, c.keySealed, c.facts.serial, c.facts.notBefore, c.facts.notAfter],
  );
}

export async function loadSiteCertificate(db: Queryable, siteId: string): Promise<StoredCertificate | null> {
  const { rows } = await db.query<Row>(`SELECT ${columns} FROM site_certificates c JOIN sites s ON s.id = c.site_id WHERE c.site_id = $1`, [siteId]);
  return rows[0] ? toStored(rows[0]) : null;
}

export async function loadAllCertificates(db: Queryable): Promise<StoredCertificate[]> {
  const { rows } = await db.query<Row>(`SELECT ${columns} FROM site_certificates c JOIN sites s ON s.id = c.site_id`);
  return rows.map(toStored);
}
