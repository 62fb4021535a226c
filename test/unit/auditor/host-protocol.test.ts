import { describe, expect, it } from 'vitest';
import { fromHost } from '../../../auditor/browser/host-protocol.js';

// The rendering process renders hostile pages: whatever it sends the auditor is validated.

describe('rendering process messages', () => {
  it('accepts a render result and refuses anything malformed or oversized', () => {
    const output = { screenshot: new Uint8Array([137, 80]), dom: '<html></html>', contactedHosts: ['shop.example'], blocked: [], resources: [], mutations: [], failedLoads: [] };
    const ok = fromHost.safeParse({ t: 'result', id: 1, stats: { launches: 1, renders: 1, kills: 0, pid: 9 }, result: { ok: true, output } });
    expect(ok.success).toBe(true);
    if (ok.success && ok.data.t === 'result' && ok.data.result.ok) expect(Buffer.isBuffer(ok.data.result.output.screenshot)).toBe(true);
    expect(fromHost.safeParse({ t: 'query', sql: 'SELECT * FROM settings' }).success).toBe(false);
    expect(fromHost.safeParse({ t: 'fetch', id: 1, req: 1, path: '/x', destination: 'database', referer: '' }).success).toBe(false);
    expect(fromHost.safeParse({ t: 'result', id: 1, stats: { launches: 1, renders: 1, kills: 0, pid: 9 }, result: { ok: true, output: { ...output, contactedHosts: ['x'.repeat(10_000)] } } }).success).toBe(false);
  });
});
