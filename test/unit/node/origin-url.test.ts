import { describe, expect, it } from 'vitest';
import { originUrl } from '../../../node/origin-fetch.js';

describe('origin URL', () => {
  it('keeps every request target on the origin', () => {
    expect(originUrl('http://127.0.0.1:9000', '//evil.test/x').href).toBe('http://127.0.0.1:9000//evil.test/x');
    expect(originUrl('https://o.test/app/', '/a?b=1').href).toBe('https://o.test/app/a?b=1');
    expect(originUrl('http://o.test', '/@evil.test').host).toBe('o.test');
    expect(() => originUrl('file:///etc', '/passwd')).toThrow();
    expect(() => originUrl('http://o.test', 'http://evil.test/')).toThrow();
  });
});
