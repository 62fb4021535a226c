import { describe, expect, it } from 'vitest';
import { extractFeatures, subresourcePaths, type DocumentContext } from '../../../auditor/compare/document.js';
import { changeFindings, diffFeatures, learn } from '../../../auditor/compare/features-diff.js';
import { compareHttp } from '../../../auditor/compare/http.js';
import { exact, generalize, matches, maskTimes } from '../../../auditor/compare/template.js';
import { decideVerdict } from '../../../auditor/compare/verdict.js';

const ctx: DocumentContext = { pageUrl: 'http://shop.example/', siteHosts: ['shop.example', '127.0.0.1:9000'] };
const page = (body: string, head = '') => `<!DOCTYPE html><html><head>${head}</head><body>${body}</body></html>`;
const findings = (origins: string[], node: string) => changeFindings(diffFeatures(learn(origins.map((h) => extractFeatures(h, ctx))), extractFeatures(node, ctx)));

describe('templates', () => {
  it('masks tokens that differ between origin fetches, but not the rest', () => {
    const t = generalize(exact('csrf token abc123 for form'), 'csrf token zz9 for form');
    expect(matches(t, 'csrf token other for form')).toBe(true);
    expect(matches(t, 'csrf token other for evil')).toBe(false);
  });

  it('gives up on values that mostly change (a rotating quote)', () => {
    const t = generalize(exact('Talk is cheap. Show me the code.'), 'Make it work, make it right.');
    expect(matches(t, 'Anything at all')).toBe(true);
  });

  it('masks dates and clock times up front', () => {
    expect(maskTimes('generated at 2026-11-25T09:00:01.123Z, open 9:00 to 17:00')).toBe('generated at ⟨time⟩, open ⟨time⟩ to ⟨time⟩');
  });
});

describe('document features', () => {
  it('normalizes same-site URLs whatever host they name', () => {
    const f = extractFeatures(page('<a href="http://127.0.0.1:9000/x">x</a><a href="/y">y</a><a href="https://evil.example/">e</a>'), ctx);
    expect(f.filter((x) => x.kind === 'link').map((x) => x.value)).toEqual(['/x', '/y', 'https://evil.example/']);
  });

  it('lists same-site scripts, stylesheets and images to hash', () => {
    const f = extractFeatures(page('<img src="/a.png"><script src="/app.js"></script><script src="https://cdn.example/x.js"></script>', '<link rel="stylesheet" href="/s.css">'), ctx);
    expect(subresourcePaths(f)).toEqual(expect.arrayContaining([{ path: '/a.png', destination: 'image' }, { path: '/app.js', destination: 'script' }, { path: '/s.css', destination: 'style' }]));
    expect(subresourcePaths(f)).toHaveLength(4);
    expect(subresourcePaths(f)).toContainEqual({ path: '/favicon.ico', destination: 'image' });
    const withIcon = extractFeatures(page('', '<link rel="icon" href="/i.png">'), ctx);
    expect(subresourcePaths(withIcon)).toEqual([{ path: '/i.png', destination: 'image' }]);
  });

  it('ignores whitespace, entities, quoting and comments', () => {
    const a = page('<p class="x">Price: €10</p><a href="/a">a</a>');
    const b = page('<!-- c -->\n  <p class=\'x\'>Price:   &euro;10</p>\n<a href=\'/a\'>a</a>');
    expect(findings([a, a], b)).toEqual([]);
  });

  it('reports added scripts, iframes, handlers, meta refresh and form actions with severities', () => {
    const a = page('<form action="/c" method="post"></form><p>hi</p>');
    const b = page('<iframe src="https://ads.example/"></iframe><form action="https://phish.example/" method="post"></form><p onclick="x()">hi</p><script src="https://evil.example/x.js"></script>', '<meta http-equiv="refresh" content="0;url=https://x.example">');
    const f = findings([a, a], b);
    const byKind = Object.fromEntries(f.map((x) => [x.kind, x.severity]));
    expect(byKind).toMatchObject({ iframe_added: 'critical', form_changed: 'critical', handler_added: 'high', script_added: 'critical', meta_refresh_added: 'high' });
  });

  it('does not count what the origin varies itself, but counts a stable text changed', () => {
    const a = page('<input type="hidden" value="t1"><p class="q">quote one here</p><p>Bank: DE44 1234</p>');
    const b = page('<input type="hidden" value="t2"><p class="q">a completely different quote</p><p>Bank: DE44 1234</p>');
    expect(findings([a, b], page('<input type="hidden" value="t3"><p class="q">third</p><p>Bank: DE44 1234</p>'))).toEqual([]);
    const f = findings([a, b], page('<input type="hidden" value="t3"><p class="q">third</p><p>Bank: GB29 9999</p>'));
    expect(f).toEqual([expect.objectContaining({ kind: 'text_changed', severity: 'high' })]);
  });
});

describe('HTTP comparison', () => {
  const origin = (nonce: string) => ({ status: 200, headers: [['Content-Type', 'text/html'], ['Content-Security-Policy', `script-src 'nonce-${nonce}'`], ['X-Frame-Options', 'DENY']] as Array<[string, string]> });
  it('ignores header order, case and nonces', () => {
    const node = { status: 200, headers: [['x-frame-options', 'DENY'], ['content-security-policy', "script-src 'nonce-zzz'"], ['content-type', 'text/html; charset=utf-8']] as Array<[string, string]> };
    expect(compareHttp([origin('a1'), origin('b2')], node, ['shop.example']).findings).toEqual([]);
  });

  it('reports weakened security headers, new cookies and foreign redirects', () => {
    const node = { status: 302, headers: [['location', 'https://phish.example/'], ['set-cookie', 'trk=1']] as Array<[string, string]> };
    const kinds = compareHttp([origin('a1'), origin('b2')], node, ['shop.example']).findings.map((f) => f.kind);
    expect(kinds).toEqual(expect.arrayContaining(['status_changed', 'redirect_changed', 'set_cookie_added', 'security_header_changed']));
  });
});

describe('verdict', () => {
  it('accuses only on medium or worse; render trouble is never a pass', () => {
    expect(decideVerdict({ state: 'compared', findings: [{ kind: 'visual_diff', severity: 'low', summary: '' }] })).toBe('pass');
    expect(decideVerdict({ state: 'compared', findings: [], renderFailed: true })).toBe('inconclusive');
    expect(decideVerdict({ state: 'compared', findings: [{ kind: 'text_changed', severity: 'medium', summary: '' }], renderFailed: true })).toBe('tampered');
    expect(decideVerdict({ state: 'unreachable', findings: [] })).toBe('unreachable');
  });
});

describe('volatility memory', () => {
  it('keeps a rotating part masked when this audit happened to fetch the same variant twice', async () => {
    const { VolatilityMemory } = await import('../../../auditor/compare/volatility-memory.js');
    const memory = new VolatilityMemory(10);
    const q = (quote: string) => page(`<p class="q">${quote}</p><p>Stable text</p>`);
    const features = (h: string) => extractFeatures(h, ctx);
    const earlier = learn([features(q('Talk is cheap, show me the code')), features(q('Simplicity is a prerequisite'))]);
    memory.remember('shop.example/', earlier);
    const collided = learn([features(q('Talk is cheap, show me the code')), features(q('Talk is cheap, show me the code'))]);
    const node = features(q('Make it work, make it right, make it fast'));
    expect(diffFeatures(collided, node)).toHaveLength(1);
    memory.apply('shop.example/', collided);
    expect(diffFeatures(collided, node)).toEqual([]);
    expect(diffFeatures(collided, features(page('<p class="q">x</p><p>Changed text</p>')))).toHaveLength(1);
    for (let i = 0; i < 20; i++) memory.remember(`p${i}`, earlier);
    expect(memory.size).toBeLessThanOrEqual(10);
  });
});
