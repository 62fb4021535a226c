import { describe, expect, it } from 'vitest';
import { isHtml, parseMediaType, sniffsAsHtml } from '../../../common/http/media-type.js';

describe('media types by meaning', () => {
  it.each(['text/html', 'TEXT/HTML', 'text/HTML;charset=utf-8', ' Text/Html ; Charset="UTF-8"', 'application/xhtml+xml'])('%s is HTML', (t) => {
    expect(isHtml(t)).toBe(true);
  });

  it.each(['text/plain', 'application/json', 'text/htmlx', 'html', ''])('%s is not HTML by label', (t) => {
    expect(isHtml(t)).toBe(false);
  });

  it('parses essence and parameters case-insensitively', () => {
    expect(parseMediaType('Application/JSON; Charset=UTF-8')).toEqual({ essence: 'application/json', params: { charset: 'UTF-8' } });
    expect(parseMediaType('garbage').essence).toBe('');
  });

  it('sniffs HTML whatever the label, as browsers do', () => {
    expect(sniffsAsHtml(Buffer.from('\n  <!DOCTYPE html><p>x'))).toBe(true);
    expect(sniffsAsHtml(Buffer.from('\ufeff<HTML>'))).toBe(true);
    expect(sniffsAsHtml(Buffer.from('<script>alert(1)</script>'))).toBe(true);
    expect(sniffsAsHtml(Buffer.from('<!-- c -->'))).toBe(true);
    expect(sniffsAsHtml(Buffer.from('<bx'))).toBe(false);
    expect(sniffsAsHtml(Buffer.from('{"a":1}'))).toBe(false);
    expect(isHtml('application/json', Buffer.from('<html><body>x'))).toBe(true);
  });
});
