import { describe, expect, it } from 'vitest';
import { parseCookies, secretsEqual } from '../../../balancer/control/auth.js';
import { safeEvidenceType } from '../../../balancer/control/evidence.js';
import type { NodeRecord } from '../../../common/db/queries/nodes.js';
import { filterAndSort, type NodeRow } from '../../../dashboards/routes/node-rows.js';
import { safeNext } from '../../../dashboards/routes/respond.js';
import { highlightedPair, splitChange } from '../../../dashboards/views/diff.js';
import { escapeHtml, html } from '../../../dashboards/views/html.js';

describe('html escaping', () => {
  it('escapes every interpolated string, in text and attributes', () => {
    const evil = `"><script>alert('x')</script>\``;
    expect(html`<a title="${evil}">${evil}</a>`.value).toBe('<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&#96;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&#96;</a>');
  });
  it('nests SafeHtml and arrays without double escaping', () => {
    const items = ['<b>', 'a&b'].map((s) => html`<li>${s}</li>`);
    expect(html`<ul>${items}</ul>`.value).toBe('<ul><li>&lt;b&gt;</li><li>a&amp;b</li></ul>');
    expect(html`${null}${undefined}${false}${0}`.value).toBe('0');
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
  });
});

describe('fragment change highlighting', () => {
  it('splits the common prefix and suffix from the change', () => {
    expect(splitChange('Price: 19.90', 'Price: 29.90')).toEqual({ prefix: 'Price: ', a: '1', b: '2', suffix: '9.90' });
    expect(splitChange('abc', 'abc')).toEqual({ prefix: 'abc', a: '', b: '', suffix: '' });
    expect(splitChange('aXa', 'aa')).toEqual({ prefix: 'a', a: 'X', b: '', suffix: 'a' });
  });
  it('escapes the fragments it highlights', () => {
    const p = highlightedPair('<p>x</p>', '<p><script>y</script></p>');
    expect(p.node.value).toBe('&lt;p&gt;<ins>&lt;script&gt;y&lt;/script&gt;</ins>&lt;/p&gt;');
    expect(p.origin.value).toBe('&lt;p&gt;<del>x</del>&lt;/p&gt;');
  });
});

function row(name: string, status: NodeRecord['status'], integrity: number, share: number | null): NodeRow {
  const node = {
    id: `${name}-id`, name, publicKey: '', publicUrl: '', location: null, declaredLocation: null, locationCheck: null, status, draining: false, integrity, availability: 0.9,
    subnet: null, provenFailures: 0, sites: ['shop.example'], lastHeartbeat: null, lastSeenAt: null, createdAt: new Date(0),
  } satisfies NodeRecord;
  return { node, trafficShare: share, requests: null, p50Ms: null, p99Ms: null };
}

describe('node table', () => {
  const rows = [row('b', 'active', 0.9, 0.5), row('a', 'quarantined', 0.1, null), row('c', 'active', 0.7, 0.2)];
  it('sorts by a column either way', () => {
    expect(filterAndSort(rows, { sort: 'integrity', dir: 'asc', status: null, q: '' }).map((r) => r.node.name)).toEqual(['a', 'c', 'b']);
    expect(filterAndSort(rows, { sort: 'traffic', dir: 'desc', status: null, q: '' }).map((r) => r.node.name)).toEqual(['b', 'c', 'a']);
  });
  it('filters by status and text', () => {
    expect(filterAndSort(rows, { sort: 'name', dir: 'asc', status: 'active', q: '' }).map((r) => r.node.name)).toEqual(['b', 'c']);
    expect(filterAndSort(rows, { sort: 'name', dir: 'asc', status: null, q: 'C-ID' }).map((r) => r.node.name)).toEqual(['c']);
  });
});

describe('request helpers', () => {
  it('only follows local next= paths', () => {
    expect(safeNext('/nodes?sort=name')).toBe('/nodes?sort=name');
    for (const bad of ['//evil.example/', 'https://evil.example/', '/\\evil.example', 'nodes', 42, '/x\r\nSet-Cookie: a=b']) expect(safeNext(bad)).toBe('/');
  });
  it('serves evidence only as allow-listed types', () => {
    expect(safeEvidenceType('image/png')).toEqual({ type: 'image/png', ext: 'png', inline: true });
    expect(safeEvidenceType('application/json')).toMatchObject({ type: 'application/json; charset=utf-8', inline: true });
    expect(safeEvidenceType('text/html; charset=utf-8')).toMatchObject({ type: 'text/plain; charset=utf-8', inline: false });
    expect(safeEvidenceType('image/svg+xml')).toMatchObject({ type: 'application/octet-stream', inline: false });
  });
  it('compares secrets of any length and parses cookies', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
    expect(secretsEqual('', 'x')).toBe(false);
    expect([...parseCookies('a=1; b=2=3; a=4; junk')]).toEqual([['a', '1'], ['b', '2=3']]);
  });
});
