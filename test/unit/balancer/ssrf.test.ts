import { describe, expect, it } from 'vitest';
import { checkNodeUrl, forbiddenAddressReason } from '../../../balancer/control/ssrf.js';

const refused = [
  'http://127.0.0.1:8090/',
  'http://127.5.6.7/',
  'http://10.0.0.1/',
  'http://172.16.4.4/',
  'http://192.168.1.10:8080/',
  'http://169.254.169.254/latest/meta-data',
  'http://100.64.1.1/',
  'http://0.0.0.0:8090/',
  'http://224.0.0.1/',
  'http://255.255.255.255/',
  'http://[::1]:8090/',
  'http://[::]/',
  'http://[fc00::1]/',
  'http://[fd12:3456::1]/',
  'http://[fe80::1]/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:a9fe:a9fe]/',
  'http://[ff02::1]/',
  'http://[64:ff9b::7f00:1]/',
  'http://[2002:7f00:1::]/',
  'http://2130706433/', // 127.0.0.1 as a decimal host: WHATWG URL normalises it
  'http://0x7f.1/',
];

const publicResolve = async () => ['93.184.216.34'];

describe('checkNodeUrl', () => {
  it.each(refused)('refuses %s and names the variable', async (url) => {
    const r = await checkNodeUrl(url, { allowPrivate: false, resolve: publicResolve });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain('VERITY_ALLOW_PRIVATE_NODE_URLS=1');
  });

  it.each(['https://93.184.216.34/', 'https://[2606:4700::1111]/', 'https://8.8.8.8:8090/'])('accepts public address %s', async (url) => {
    expect(await checkNodeUrl(url, { allowPrivate: false, resolve: publicResolve })).toEqual({ ok: true });
  });

  it('refuses plain HTTP to a public address (nodes serve TLS), and names the variable for local trials', async () => {
    const r = await checkNodeUrl('http://93.184.216.34:8090/', { allowPrivate: false, resolve: publicResolve });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/plain HTTP.*VERITY_ALLOW_PRIVATE_NODE_URLS=1/);
    expect(await checkNodeUrl('http://127.0.0.1:8090/', { allowPrivate: true })).toEqual({ ok: true });
  });

  it('refuses a name when any of its addresses is private', async () => {
    const r = await checkNodeUrl('http://node.example.org/', { allowPrivate: false, resolve: async () => ['93.184.216.34', '10.1.1.1'] });
    expect(r).toMatchObject({ ok: false });
    if (!r.ok) expect(r.reason).toContain('node.example.org resolves to it');
  });

  it('accepts a name resolving only to public addresses', async () => {
    expect(await checkNodeUrl('https://node.example.org/', { allowPrivate: false, resolve: publicResolve })).toEqual({ ok: true });
  });

  it('refuses a name that does not resolve', async () => {
    const r = await checkNodeUrl('http://nowhere.invalid/', { allowPrivate: false, resolve: async () => { throw new Error('ENOTFOUND'); } });
    expect(r.ok).toBe(false);
  });

  it('resolves names with the real resolver: localhost is loopback', async () => {
    const r = await checkNodeUrl('http://localhost:8090/', { allowPrivate: false });
    expect(r.ok).toBe(false);
  });

  it('allows private addresses when told to', async () => {
    expect(await checkNodeUrl('http://127.0.0.1:8090/', { allowPrivate: true })).toEqual({ ok: true });
  });

  it('refuses non-http schemes and credentials even when private is allowed', async () => {
    expect((await checkNodeUrl('file:///etc/passwd', { allowPrivate: true })).ok).toBe(false);
    expect((await checkNodeUrl('http://u:p@93.184.216.34/', { allowPrivate: true })).ok).toBe(false);
  });
});

describe('forbiddenAddressReason', () => {
  it('is null only for global unicast', () => {
    expect(forbiddenAddressReason('93.184.216.34')).toBeNull();
    expect(forbiddenAddressReason('2606:4700::1111')).toBeNull();
    expect(forbiddenAddressReason('::ffff:93.184.216.34')).toBeNull();
    expect(forbiddenAddressReason('169.254.169.254')).toMatch(/linkLocal/);
    expect(forbiddenAddressReason('::ffff:10.0.0.1')).toMatch(/private/);
    expect(forbiddenAddressReason('not-an-ip')).toMatch(/not an IP/);
  });
});
