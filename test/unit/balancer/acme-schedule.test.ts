import { describe, expect, it } from 'vitest';
import { acmeEligible, certificateDue, renewAt, retryDelayMs } from '../../../balancer/acme/schedule.js';

const day = 86_400_000;
const nb = new Date('2026-01-01T00:00:00Z');
const na = new Date(nb.getTime() + 90 * day);

describe('ACME schedule', () => {
  it('renews two thirds into the lifetime (day 60 of 90)', () => {
    expect(renewAt(nb, na).toISOString()).toBe('2026-03-02T00:00:00.000Z');
    const acmeCert = { source: 'acme' as const, notBefore: nb, notAfter: na };
    expect(certificateDue({ host: 'a.example', certificate: acmeCert, attempt: null }, new Date(nb.getTime() + 59 * day)).due).toBe(false);
    expect(certificateDue({ host: 'a.example', certificate: acmeCert, attempt: null }, new Date(nb.getTime() + 60 * day))).toEqual({ due: true, reason: 'renewal' });
  });

  it('a site without a certificate is due, unless waiting to retry', () => {
    const now = new Date();
    expect(certificateDue({ host: 'a.example', certificate: null, attempt: null }, now)).toEqual({ due: true, reason: 'missing' });
    expect(certificateDue({ host: 'a.example', certificate: null, attempt: { failures: 2, retryAt: new Date(now.getTime() + 1) } }, now).due).toBe(false);
  });

  it('never for the owner\'s own certificate, nor a name no CA can validate', () => {
    expect(certificateDue({ host: 'a.example', certificate: { source: 'owner', notBefore: nb, notAfter: nb }, attempt: null }, na).due).toBe(false);
    for (const host of ['localhost', 'site.test:8080', '127.0.0.1', '[::1]', 'a_b.example', '-a.example']) expect(acmeEligible(host)).toBe(false);
    for (const host of ['example.org', 'www.example.co.uk', 'xn--bcher-kva.example']) expect(acmeEligible(host)).toBe(true);
  });

  it('backs off 1 min, 2, 4 … up to 6 h', () => {
    expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([60_000, 120_000, 240_000, 480_000]);
    expect(retryDelayMs(30)).toBe(6 * 3_600_000);
  });
});
