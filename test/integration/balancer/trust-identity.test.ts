import { describe, expect, it } from 'vitest';
import { applyNodeAction } from '../../../common/db/queries/admin-actions.js';
import { listTrustEvents, recordTrustEvent } from '../../../common/db/queries/trust.js';
import { useTestDatabase } from '../../support/db.js';
import { makeSiteWithToken } from '../../support/node-fixtures.js';
import { spawnNode, useNodeProcesses } from '../../support/node-process.js';

// Identity that cannot be laundered, with real `verity node` processes on a real control plane:
// a node that re-registers somewhere else goes back to probation; nodes sharing a public URL are
// one group for trust.

const db = useTestDatabase();
const nodes = useNodeProcesses(db);

function args(cp: string, dir: string, o: { token?: string; publicUrl: string; location: string }): string[] {
  return ['--balancer', cp, '--listen', '127.0.0.1:0', '--status-listen', '127.0.0.1:0', '--data-dir', dir, '--public-url', o.publicUrl, '--location', o.location, ...(o.token ? ['--token', o.token] : [])];
}

async function run(a: string[]): Promise<string> {
  const p = nodes.track(spawnNode(a));
  const { nodeId } = await p.ready();
  await p.stop();
  return nodeId;
}

async function status(id: string): Promise<string> {
  const { rows } = await db.pool.query<{ status: string }>('SELECT status FROM nodes WHERE id = $1', [id]);
  return rows[0]?.status ?? 'gone';
}

async function promote(id: string): Promise<void> {
  for (let i = 0; i < 6; i++) await recordTrustEvent(db.pool, id, { kind: 'audit_pass', reason: 'clean audit' });
  expect(await status(id)).toBe('active');
}

const frankfurt = '50.11,8.68';
const saoPaulo = '-23.55,-46.63';

describe('identity that cannot be laundered', () => {
  it('keeps an active node active across a plain restart, and sends it back to probation for a new location or URL', async () => {
    const cp = await nodes.controlPlane();
    const { token } = await makeSiteWithToken(db.pool, { host: 'identity.test' });
    const dir = nodes.dataDir();
    const id = await run(args(cp.url, dir, { token, publicUrl: 'http://198.51.100.7:8090', location: frankfurt }));
    await promote(id);
    // The same node in the same place: nothing changes.
    await run(args(cp.url, dir, { publicUrl: 'http://198.51.100.7:8090/', location: '50.2,8.7' }));
    expect(await status(id)).toBe('active');
    // It says it moved to São Paulo: a new identity, probation again.
    await run(args(cp.url, dir, { publicUrl: 'http://198.51.100.7:8090', location: saoPaulo }));
    expect(await status(id)).toBe('probation');
    const moved = (await listTrustEvents(db.pool, id)).at(-1);
    expect(moved).toMatchObject({ kind: 'identity_changed', statusAfter: 'probation' });
    expect(moved?.reason).toMatch(/declared location moved 9\d{3} km/);
    // Earned back, then pointed at another URL (an honest relay swapped for its own box): probation again.
    await promote(id);
    await run(args(cp.url, dir, { publicUrl: 'http://203.0.113.9:8090', location: saoPaulo }));
    expect(await status(id)).toBe('probation');
    expect((await listTrustEvents(db.pool, id)).at(-1)?.reason).toMatch(/public URL http:\/\/198\.51\.100\.7:8090 → http:\/\/203\.0\.113\.9:8090/);
  });

  it('links nodes sharing a public URL: penalties reach both, and a new key on a quarantined node’s URL starts quarantined', async () => {
    const cp = await nodes.controlPlane();
    const { token } = await makeSiteWithToken(db.pool, { host: 'links.test', uses: 3 });
    const shared = 'http://198.51.100.20:8090';
    const a = await run(args(cp.url, nodes.dataDir(), { token, publicUrl: shared, location: frankfurt }));
    const b = await run(args(cp.url, nodes.dataDir(), { token, publicUrl: shared, location: frankfurt }));
    await promote(a);
    await promote(b);
    // A confirmed finding on one is a finding on the group; good news is not shared.
    await recordTrustEvent(db.pool, a, { kind: 'audit_tampered', severity: 'high', confirmation: 'confirmed', reason: 'injected a script' });
    const copy = (await listTrustEvents(db.pool, b)).at(-1);
    expect(copy).toMatchObject({ kind: 'audit_tampered', viaNode: a, confirmation: 'confirmed' });
    expect(copy?.reason).toMatch(/^linked to node [0-9a-f]{32} \(shared public URL http:\/\/198\.51\.100\.20:8090\): injected a script/);
    await recordTrustEvent(db.pool, a, { kind: 'audit_pass', reason: 'clean' });
    expect((await listTrustEvents(db.pool, b)).at(-1)?.kind).toBe('audit_tampered');
    // The second proven finding quarantines a, and b with it.
    await recordTrustEvent(db.pool, a, { kind: 'audit_tampered', severity: 'high', confirmation: 'confirmed', reason: 'injected a script again' });
    expect(await status(a)).toBe('quarantined');
    expect(await status(b)).toBe('quarantined');
    // A fresh key on the same URL is the same box: it starts quarantined, with the reason.
    await applyNodeAction(db.pool, a, 'ban', 'tampering', 'admin');
    const c = await run(args(cp.url, nodes.dataDir(), { token, publicUrl: `${shared}/`, location: frankfurt }));
    expect(await status(c)).toBe('quarantined');
    expect((await listTrustEvents(db.pool, c)).at(-1)?.reason).toMatch(/shares the public URL http:\/\/198\.51\.100\.20:8090 of (banned|quarantined) node/);
  });
});
