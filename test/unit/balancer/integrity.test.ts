import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../balancer/background/site-refresh.js';
import { diffExcerpt } from '../../../balancer/integrity/diff-excerpt.js';
import { HashStore, isStaticPath } from '../../../balancer/integrity/hash-store.js';
import { htmlSignature, signatureMismatch } from '../../../balancer/integrity/html-signature.js';

const page = (extra: string, stamp: string) => `<html><head><script src="/app.js"></script></head><body><p>Rendered at ${stamp}</p>
<input type="hidden" name="csrf" value="${stamp}abcdefabcdefabcdefabcdef">${extra}</body></html>`;

describe('html signature', () => {
  it('volatile parts (times, tokens) do not count', () => {
    expect(signatureMismatch(htmlSignature(page('', '12:00:01')), htmlSignature(page('', '12:00:02')), null)).toEqual([]);
  });
  it('an injected script, frame, form target or outside host does', () => {
    const origin = htmlSignature(page('', '1'));
    expect(signatureMismatch(htmlSignature(page('<script src="https://evil.example/x.js"></script>', '1')), origin, null)).toEqual(['scripts', 'hosts']);
    expect(signatureMismatch(htmlSignature(page('<iframe src="https://evil.example/"></iframe>', '1')), origin, null)).toContain('iframes');
    expect(signatureMismatch(htmlSignature(page('<form action="https://evil.example/steal"></form>', '1')), origin, null)).toContain('forms');
    // Text is the deep audits' job (pages rotate it on their own).
    expect(signatureMismatch(htmlSignature(page('<p>Send bitcoin to X</p>', '1')), origin, null)).toEqual([]);
  });
  it('parts that differ between two origin copies are ignored', () => {
    const a = htmlSignature('<script src="/a.js?v=1"></script>');
    expect(signatureMismatch(htmlSignature('<script src="/a.js?v=x"></script>'), a, htmlSignature('<script src="/a.js?v=y"></script>'))).toEqual([]);
  });
});

describe('hashes', () => {
  it('manifest: flat or {files}, hex or SRI', () => {
    const hex = 'a'.repeat(64);
    const m = parseManifest({ files: { '/app.js': hex, '/x.css': `sha256-${Buffer.from('b'.repeat(64), 'hex').toString('base64')}`, 'rel.js': hex } });
    expect([...m.entries()]).toEqual([['/app.js', hex], ['/x.css', 'b'.repeat(64)]]);
  });
  it('learned hashes expire; the manifest wins', () => {
    const s = new HashStore({ ttlMs: 1000, maxEntries: 10 });
    s.learn('s', '/a.js', { kind: 'hash', sha256: 'x', etag: null, learnedAt: 0, source: 'origin' });
    expect(s.lookup('s', '/a.js', 500)?.kind).toBe('hash');
    expect(s.lookup('s', '/a.js', 1500)).toBeUndefined();
    s.setManifest('s', new Map([['/a.js', 'm']]), 2000);
    expect(s.lookup('s', '/a.js?v=1', 2100)).toMatchObject({ sha256: 'm', source: 'manifest' });
  });
  it('static paths', () => {
    expect(isStaticPath('/assets/app.3f2a.js')).toBe(true);
    expect(isStaticPath('/page')).toBe(false);
  });
  it('diff excerpt points at the first difference', () => {
    const d = diffExcerpt(Buffer.from('hello world'), Buffer.from('hello wicked'), 10);
    expect(d.offset).toBe(7);
    expect(d.actual).toContain('wick');
  });
});
