import { describe, expect, it } from 'vitest';
import { classifyRequest, compileRoutes, normalisePath } from '../../../balancer/routes/classify.js';
import { clientAddress, compileTrustedProxies } from '../../../balancer/routes/client-address.js';

const routes = { isPrivate: compileRoutes(['/account/**', '/login', '/api/*', 'admin'], true), isPublic: null };

describe('classifyRequest: the first gate (the origin still has to have published the URL)', () => {
  it.each([
    ['GET', '/page', {}, 'candidate'],
    ['HEAD', '/app.js', {}, 'candidate'],
    ['GET', '/page?page=2&q=shoes', {}, 'candidate'],
    ['POST', '/page', {}, 'method'],
    ['OPTIONS', '/page', {}, 'method'],
    ['GET', '/page', { cookie: 'a=b' }, 'credentials'],
    ['GET', '/page', { authorization: 'Bearer x' }, 'credentials'],
    ['GET', '/page', { 'proxy-authorization': 'Basic x' }, 'credentials'],
    ['GET', '/page', { 'service-worker': 'script' }, 'service-worker'],
    ['GET', '/account', {}, 'private-route'],
    ['GET', '/account/settings', {}, 'private-route'],
    ['GET', '/ACCOUNT/settings', {}, 'private-route'],
    ['GET', '/%61ccount/settings', {}, 'private-route'],
    ['GET', '//account/settings', {}, 'private-route'],
    ['GET', '/x/../account', {}, 'private-route'],
    ['GET', '/account.json', {}, 'private-route'],
    ['GET', '/account;jsessionid=1', {}, 'private-route'],
    ['GET', '/login', {}, 'private-route'],
    ['GET', '/login/', {}, 'private-route'],
    ['GET', '/login;x', {}, 'private-route'],
    ['GET', '/login.php?next=/', {}, 'private-route'],
    ['GET', '/login%2freset', {}, 'private-route'],
    ['GET', '/admin/users', {}, 'private-route'],
    ['GET', '/api/me', {}, 'private-route'],
    ['GET', '/bad%E0', {}, 'private-route'],
    ['GET', '/loginfo', {}, 'candidate'],
    ['GET', '/accounts-help', {}, 'candidate'],
  ])('%s %s %j → %s', (method, url, headers, expected) => {
    const c = classifyRequest(method, url, headers, routes);
    expect(c.route === 'candidate' ? 'candidate' : c.reason).toBe(expected);
  });

  it('--public restricts: only matching paths stay candidates', () => {
    const only = { isPrivate: null, isPublic: compileRoutes(['/static/**', '/app.js'], false) };
    expect(classifyRequest('GET', '/static/a/b.css', {}, only).route).toBe('candidate');
    expect(classifyRequest('GET', '/app.js?v=2', {}, only).route).toBe('candidate');
    expect(classifyRequest('GET', '/page', {}, only)).toEqual({ route: 'origin', reason: 'not-public' });
    expect(classifyRequest('GET', '/static.secret', {}, only)).toEqual({ route: 'origin', reason: 'not-public' });
  });

  it('normalises paths the way globs must see them', () => {
    expect(normalisePath('/A;x=1/./b//%63/../d')).toEqual(['a', 'b', 'd']);
    expect(normalisePath('/%E0')).toBeNull();
  });
});

describe('clientAddress', () => {
  const trusted = compileTrustedProxies(['10.0.0.0/8', '192.168.1.1']);
  it('an untrusted peer is the client, whatever it claims', () => {
    expect(clientAddress('203.0.113.9', '1.2.3.4', trusted)).toBe('203.0.113.9');
    expect(clientAddress('::ffff:127.0.0.1', '1.2.3.4', compileTrustedProxies([]))).toBe('127.0.0.1');
  });
  it('behind trusted proxies: the right-most hop that is not a trusted proxy', () => {
    expect(clientAddress('10.1.1.1', '6.6.6.6, 81.2.69.142, 192.168.1.1', trusted)).toBe('81.2.69.142');
    expect(clientAddress('10.1.1.1', 'garbage', trusted)).toBe('10.1.1.1');
    expect(clientAddress('10.1.1.1', undefined, trusted)).toBe('10.1.1.1');
  });
});
