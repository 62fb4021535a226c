import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { recordTrustEvent } from '../../../common/db/queries/trust.js';
import { useTestDatabase } from '../../support/db.js';
import { makeSiteWithToken } from '../../support/node-fixtures.js';
import { rawRequest } from '../../support/node-http.js';
import { useNodeProcesses } from '../../support/node-process.js';

// The volunteer's status page, served by a real `verity node` against a real control plane:
// every penalty with its evidence once the audit-secrecy delay has passed (and not before),
// and a "request re-check" button that queues an audit, at most once per interval.

const db = useTestDatabase();
const nodes = useNodeProcesses(db);
const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

async function tamperedAudit(nodeId: string, siteId: string, at: Date): Promise<{ auditId: string; screenshot: string; fragments: string }> {
  const { rows } = await db.pool.query<{ id: string }>(
    "INSERT INTO audits (node_id, site_id, url, status, verdict, started_at, finished_at, confirmation) VALUES ($1, $2, '/checkout', 'done', 'tampered', $3, $3, 'unconfirmed') RETURNING id",
    [nodeId, siteId, at]);
  const auditId = rows[0]?.id ?? '';
  await db.pool.query("INSERT INTO findings (audit_id, kind, severity, summary) VALUES ($1, 'script_added', 'high', 'a script from evil.example was added')", [auditId]);
  const ev = async (kind: string, type: string, body: Buffer) => (await db.pool.query<{ id: string }>(
    'INSERT INTO evidence (audit_id, kind, content_type, body) VALUES ($1, $2, $3, $4) RETURNING id', [auditId, kind, type, body])).rows[0]?.id ?? '';
  const screenshot = await ev('node-screenshot', 'image/png', png);
  const fragments = await ev('fragments', 'application/json', Buffer.from(JSON.stringify({ node: '<script src="https://evil.example/x.js"></script>' })));
  await recordTrustEvent(db.pool, nodeId, { kind: 'audit_tampered', severity: 'high', confirmation: 'unconfirmed', reason: 'script added', auditId }, at);
  return { auditId, screenshot, fragments };
}

function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; location?: string }> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('volunteer status page', () => {
  it('shows each disclosed penalty with its evidence, hides recent ones, and queues a rate-limited re-check', async () => {
    const cp = await nodes.controlPlane();
    const { site, token } = await makeSiteWithToken(db.pool, { host: 'status-ev.test' });
    const p = nodes.start(cp.url, token);
    const ready = await p.ready();
    const old = await tamperedAudit(ready.nodeId, site.id, new Date(Date.now() - 2 * 3600_000));
    const recent = await tamperedAudit(ready.nodeId, site.id, new Date());
    const html = await (async () => {
      for (let i = 0; i < 100; i++) {
        const page = (await rawRequest(ready.statusUrl)).body.toString();
        if (page.includes('a script from evil.example was added')) return page;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error('penalty never shown');
    })();
    expect(html).toContain('verdict unconfirmed');
    expect(html).toContain('page /checkout');
    expect(html).toContain(`/evidence/${old.screenshot}`);
    expect(html).toContain('trust changes 10 to 60 minutes late');
    // The penalty of a minute ago is not there yet, nor its evidence.
    expect(html).not.toContain(recent.screenshot);
    expect((await rawRequest(`${ready.statusUrl}evidence/${recent.screenshot}`)).status).toBe(404);
    const shot = await rawRequest(`${ready.statusUrl}evidence/${old.screenshot}`);
    expect(shot.status).toBe(200);
    expect(shot.headers['content-type']).toBe('image/png');
    expect(shot.body.equals(png)).toBe(true);
    const fragment = await rawRequest(`${ready.statusUrl}evidence/${old.fragments}`);
    expect(fragment.headers['content-type']).toBe('application/json');
    expect(fragment.headers['content-security-policy']).toContain('sandbox');
    // Re-check: the form carries a token; a cross-site post is refused.
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    expect((await postForm(`${ready.statusUrl}recheck`, { csrf, auditId: old.auditId }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await postForm(`${ready.statusUrl}recheck`, { csrf: 'wrong', auditId: old.auditId })).status).toBe(403);
    expect(await postForm(`${ready.statusUrl}recheck`, { csrf, auditId: old.auditId })).toMatchObject({ status: 303, location: '/' });
    const queued = await db.pool.query<{ url: string; status: string }>("SELECT url, status FROM audits WHERE node_id = $1 AND reason = 'recheck'", [ready.nodeId]);
    expect(queued.rows).toEqual([{ url: '/checkout', status: 'queued' }]);
    expect((await rawRequest(ready.statusUrl)).body.toString()).toContain('Re-check queued: status-ev.test/checkout');
    // A second one at once is refused, and the page says when the next is possible.
    await postForm(`${ready.statusUrl}recheck`, { csrf });
    expect((await rawRequest(ready.statusUrl)).body.toString()).toMatch(/Re-check not queued: one re-check per 15 min: the next one is allowed at /);
    expect((await db.pool.query("SELECT 1 FROM audits WHERE node_id = $1 AND reason = 'recheck'", [ready.nodeId])).rowCount).toBe(1);
    // Heartbeats kept working alongside (counters in order).
    expect(p.stdout()).not.toMatch(/NODE_ERR_REPLAY/);
  });
});
