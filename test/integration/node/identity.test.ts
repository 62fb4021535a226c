import { mkdtempSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeIdFor } from '../../../common/protocol/node-api.js';
import { KEY_FILE, loadOrCreateIdentity } from '../../../node/identity.js';
import { findEnrollment, recordEnrollment, tokenFingerprint } from '../../../node/enrollment.js';
import { LOCK_FILE, lockDataDir } from '../../../node/instance-lock.js';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'verity-identity-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('node identity', () => {
  it('makes an Ed25519 key once (mode 0600) and re-uses it', async () => {
    const dir = join(fresh(), 'nested', 'data');
    const a = await loadOrCreateIdentity(dir);
    expect(a.created).toBe(true);
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(a.nodeId).toBe(nodeIdFor(Buffer.from(a.publicKey, 'base64url')));
    const b = await loadOrCreateIdentity(dir);
    expect(b).toMatchObject({ created: false, nodeId: a.nodeId, publicKey: a.publicKey, warning: null });
  });

  it('two starts racing on an empty dir end with one identity', async () => {
    const dir = fresh();
    const [a, b] = await Promise.all([loadOrCreateIdentity(dir), loadOrCreateIdentity(dir)]);
    expect(a.nodeId).toBe(b.nodeId);
  });

  it('warns about a key readable by others and refuses a damaged key', async () => {
    const dir = fresh();
    await loadOrCreateIdentity(dir);
    chmodSync(join(dir, KEY_FILE), 0o644);
    expect((await loadOrCreateIdentity(dir)).warning).toMatch(/chmod 600/);
    writeFileSync(join(dir, KEY_FILE), 'garbage');
    await expect(loadOrCreateIdentity(dir)).rejects.toMatchObject({ code: 'NODE_ERR_IDENTITY' });
  });

  it('remembers spent tokens per balancer', async () => {
    const dir = fresh();
    await recordEnrollment(dir, 'http://b.test:8081', 'n1', new Date(0), 'vjt_a');
    await recordEnrollment(dir, 'http://b.test:8081/', 'n1', new Date(1), 'vjt_b');
    const e = await findEnrollment(dir, 'http://b.test:8081', 'n1');
    expect(e?.tokens.sort()).toEqual([tokenFingerprint('vjt_a'), tokenFingerprint('vjt_b')].sort());
    expect(await findEnrollment(dir, 'http://other.test', 'n1')).toBeNull();
  });
});

describe('one node per data dir', () => {
  it('refuses a second live holder, takes over a stale lock, and releases', async () => {
    const dir = fresh();
    const release = await lockDataDir(dir);
    // The test runner's parent process is alive and is not us: it stands in for another node.
    await expect(lockDataDir(dir, process.ppid)).rejects.toMatchObject({ code: 'NODE_ERR_IDENTITY' });
    await release();
    writeFileSync(join(dir, LOCK_FILE), '999999999\n');
    const again = await lockDataDir(dir);
    await again();
  });
});
