import { describe, expect, it } from 'vitest';
import { browserHeaders } from '../../../auditor/fetch/request-headers.js';
import { drawVisitor } from '../../../auditor/fetch/visitor-profile.js';
import { auditPath, choosePage, nextAuditDelayMs, planAudit } from '../../../auditor/scheduler.js';
import { sitemapPaths } from '../../../auditor/sitemap.js';
import { seededRandom } from '../../support/auditor/seeded.js';

const E = 300_000;
const sample = (node: Parameters<typeof nextAuditDelayMs>[0], n = 2000) => {
  const random = seededRandom(4);
  return Array.from({ length: n }, () => nextAuditDelayMs(node, E, random));
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('audit cadence', () => {
  it('never waits longer than --audit-every', () => {
    for (const status of ['probation', 'active', 'quarantined'] as const) {
      expect(Math.max(...sample({ status, integrity: 0.9, cleanAuditStreak: 1000 }))).toBeLessThanOrEqual(E);
    }
  });

  it('audits probation, quarantined and low-trust nodes far more often than clean ones', () => {
    const clean = mean(sample({ status: 'active', integrity: 0.95, cleanAuditStreak: 500 }));
    expect(mean(sample({ status: 'probation', integrity: 0.5, cleanAuditStreak: 0 }))).toBeLessThan(clean / 3);
    expect(mean(sample({ status: 'quarantined', integrity: 0.1, cleanAuditStreak: 0 }))).toBeLessThan(clean / 2);
    expect(mean(sample({ status: 'active', integrity: 0.5, cleanAuditStreak: 0 }))).toBeLessThan(clean / 2);
  });

  it('keeps quick re-checks possible for a long clean record (unpredictable)', () => {
    const quick = sample({ status: 'active', integrity: 0.95, cleanAuditStreak: 10_000 }).filter((d) => d < 0.4 * E).length;
    expect(quick).toBeGreaterThan(100);
    const fresh = sample({ status: 'active', integrity: 0.95, cleanAuditStreak: 1 }).filter((d) => d < 0.4 * E).length;
    expect(fresh).toBeGreaterThan(quick);
  });

  it('plans a never-audited pair now, a recently audited one later', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const row = { nodeId: 'n', siteId: 's', siteHost: 'h', originUrl: 'http://o', status: 'active' as const, integrity: 0.9, cleanAuditStreak: 3, pending: false };
    const first = planAudit({ ...row, lastAuditAt: null }, { path: '/', fresh: false }, E, now, seededRandom(1));
    expect(first.runAfter.getTime() - now.getTime()).toBeLessThan(10_001);
    const later = planAudit({ ...row, lastAuditAt: now }, { path: '/', fresh: false }, E, now, seededRandom(1));
    expect(later.runAfter.getTime()).toBeGreaterThan(now.getTime());
    const random = seededRandom(5);
    for (let i = 0; i < 500; i++) {
      const next = planAudit({ ...row, cleanAuditStreak: 1000, lastAuditAt: now }, { path: '/', fresh: false }, E, now, random);
      expect(next.runAfter.getTime() - now.getTime()).toBeLessThanOrEqual(E);
    }
    expect(planAudit({ ...row, status: 'probation', lastAuditAt: null }, { path: '/', fresh: false }, E, now, seededRandom(1)).reason).toBe('probation');
  });
});

describe('pages', () => {
  it('draws mostly what visitors request, sometimes the root and the sitemap', () => {
    const random = seededRandom(9);
    const picks = Array.from({ length: 1000 }, () => choosePage({ samples: [{ path: '/hot', hits: 100 }, { path: '/cold', hits: 1 }], sitemap: ['/new'] }, random));
    const count = (p: string) => picks.filter((x) => x.path === p).length;
    expect(count('/hot')).toBeGreaterThan(count('/cold') * 20);
    expect(count('/')).toBeGreaterThan(50);
    expect(picks.find((x) => x.path === '/new')?.fresh).toBe(true);
  });

  it('covers the whole distribution: this node\'s recent requests, first-seen pages and the long tail', () => {
    const random = seededRandom(10);
    const pool = { samples: [{ path: '/top', hits: 1000 }], sitemap: [], nodeRecent: ['/served-here', '/served-here', '/top'], newUrls: ['/brand-new'], tail: ['/tail-1', '/tail-2', '/top'] };
    const picks = Array.from({ length: 2000 }, () => choosePage(pool, random).path);
    const share = (p: string) => picks.filter((x) => x === p).length / picks.length;
    expect(share('/served-here')).toBeGreaterThan(0.18);
    expect(share('/brand-new')).toBeGreaterThan(0.09);
    expect(share('/tail-1') + share('/tail-2')).toBeGreaterThan(0.06);
    expect(share('/top')).toBeGreaterThan(0.3);
  });

  it('reads sitemaps and audit urls', () => {
    expect(sitemapPaths('<urlset><url><loc>http://shop.example/a</loc></url><url><loc>https://other.example/b</loc></url></urlset>', ['shop.example'])).toEqual(['/a']);
    expect(auditPath('http://shop.example/x?y=1')).toBe('/x?y=1');
    expect(auditPath('/p')).toBe('/p');
  });
});

describe('visitor mix', () => {
  it('varies user agents and languages and never says HeadlessChrome', () => {
    const random = seededRandom(2);
    const visitors = Array.from({ length: 300 }, () => drawVisitor(random));
    expect(new Set(visitors.map((v) => v.userAgent)).size).toBeGreaterThan(4);
    expect(new Set(visitors.map((v) => v.acceptLanguage)).size).toBeGreaterThan(6);
    expect(new Set(visitors.map((v) => v.clientIp)).size).toBeGreaterThan(250);
    expect(visitors.some((v) => /Headless/i.test(v.userAgent))).toBe(false);
  });

  it('sends a browser header set in the browser order', () => {
    const chrome = drawVisitor(() => 0.01);
    const names = browserHeaders(chrome, { host: 'shop.example', destination: 'document', secure: true }).map(([k]) => k);
    expect(names.slice(0, 3)).toEqual(['Host', 'Connection', 'sec-ch-ua']);
    expect(names).toEqual(expect.arrayContaining(['User-Agent', 'Accept', 'Accept-Encoding', 'Accept-Language', 'Sec-Fetch-Mode', 'Upgrade-Insecure-Requests']));
    const plain = browserHeaders(chrome, { host: 'shop.example', destination: 'script', secure: false, referer: 'http://shop.example/' }).map(([k]) => k);
    expect(plain).not.toContain('sec-ch-ua');
    expect(plain).toContain('Referer');
  });
});

describe('secure random', () => {
  it('stays in [0, 1)', async () => {
    const { secureRandom } = await import('../../../auditor/app.js');
    for (let i = 0; i < 1000; i++) {
      const x = secureRandom();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });
});
