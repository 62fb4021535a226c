import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { AuditRun } from '../../../auditor/checks/run-audit.js';
import { compareRendered, pixelDiff } from '../../../auditor/compare/rendered.js';
import { buildEvidence, evidenceKinds } from '../../../auditor/evidence/build.js';

function png(w: number, h: number, paint: (x: number, y: number) => number): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) {
    const v = paint(i % w, Math.floor(i / w));
    p.data.set([v, v, v, 255], i * 4);
  }
  return PNG.sync.write(p);
}

const run = (over: Partial<AuditRun>): AuditRun => ({
  verdict: 'pass', reason: '', findings: [], headersDiff: [], blocked: [], rendered: 'done', renderError: null, screenshots: null, diffRatio: null, subresourcesChecked: 0, originRenders: 0, ...over,
});

describe('screenshots', () => {
  it('finds no difference between identical images and a large one when half the picture changes', () => {
    const a = png(40, 20, () => 255);
    expect(pixelDiff(a, a)?.ratio).toBe(0);
    const b = png(40, 20, (x) => (x < 20 ? 0 : 255));
    expect(pixelDiff(a, b)?.ratio).toBeCloseTo(0.5, 1);
    expect(pixelDiff(a, Buffer.from('not a png'))).toBeNull();
  });

  it('reports hosts the node page reached that the origin page never did', () => {
    const shot = png(10, 10, () => 128);
    const ctx = { pageUrl: 'http://shop.example/', siteHosts: ['shop.example'] };
    const dom = '<html><body><p>x</p></body></html>';
    const snap = (hosts: string[]) => ({ dom, screenshot: shot, contactedHosts: hosts, mutations: [], failedLoads: [], blocked: [] });
    const cmp = compareRendered({ origins: [snap(['shop.example'])], node: snap(['shop.example', 'evil.example']), ctx, originHtml: [dom], staticFindings: [] });
    expect(cmp.findings).toEqual([expect.objectContaining({ kind: 'new_host_contacted', severity: 'high', node: 'evil.example', unambiguous: false })]);
  });
});

describe('evidence', () => {
  it('keeps screenshots only for tampered audits and uses the dashboard kind names', () => {
    const shots = { origin: png(2, 2, () => 0), node: png(2, 2, () => 1), diff: png(2, 2, () => 2) };
    const finding = { kind: 'script_added', severity: 'critical' as const, summary: 's', origin: null, node: '<script>' };
    const tampered = buildEvidence(run({ verdict: 'tampered', findings: [finding], screenshots: shots, headersDiff: [{ name: 'x-frame-options', origin: 'DENY', node: null }], blocked: [{ url: 'https://evil.example/', type: 'script', reason: 'third-party', render: 'node' }] }));
    expect(tampered.map((e) => e.kind).sort()).toEqual([...evidenceKinds].sort());
    expect(JSON.parse(tampered.find((e) => e.kind === 'fragments')?.body.toString() ?? '')).toEqual([{ kind: 'script_added', origin: null, node: '<script>' }]);
    expect(buildEvidence(run({ screenshots: shots })).map((e) => e.kind)).toEqual([]);
  });
});
