// When a site needs a certificate from ACME (pure: no I/O, the clock is a parameter). Only
// registered sites are ever considered (the list comes from the sites table, never from a name
// a visitor sent), only host names a public CA can validate, and never a site whose owner gave
// a certificate of their own. A certificate is renewed at two thirds of its lifetime; a failed
// attempt is retried with exponential backoff.

export interface SiteCertificateState {
  host: string;
  certificate: { source: 'owner' | 'acme'; notBefore: Date; notAfter: Date } | null;
  attempt: { failures: number; retryAt: Date | null } | null;
}

export const RETRY_MIN_MS = 60_000;
export const RETRY_MAX_MS = 6 * 3_600_000;

/** A DNS name (no port, not an address literal, at least one dot). */
export function acmeEligible(host: string): boolean {
  return /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/.test(host);
}

/** Two thirds into the certificate's lifetime. */
export function renewAt(notBefore: Date, notAfter: Date): Date {
  return new Date(notBefore.getTime() + ((notAfter.getTime() - notBefore.getTime()) * 2) / 3);
}

export type Due = { due: false; reason: string } | { due: true; reason: 'missing' | 'renewal' };

export function certificateDue(s: SiteCertificateState, now: Date): Due {
  if (!acmeEligible(s.host)) return { due: false, reason: 'not a name a CA can validate' };
  if (s.certificate?.source === 'owner') return { due: false, reason: "the owner's own certificate" };
  if (s.attempt?.retryAt && s.attempt.retryAt.getTime() > now.getTime()) return { due: false, reason: 'waiting to retry' };
  if (!s.certificate) return { due: true, reason: 'missing' };
  if (now.getTime() >= renewAt(s.certificate.notBefore, s.certificate.notAfter).getTime()) return { due: true, reason: 'renewal' };
  return { due: false, reason: 'valid' };
}

/** After `failures` failed attempts in a row: 1 min, 2, 4… up to 6 h. */
export function retryDelayMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.max(0, failures - 1));
}
