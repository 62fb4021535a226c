import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocatePorts } from '../../../bin/demo/ports.js';
import { runCli } from '../../support/cli.js';

describe('verity demo ports', () => {
  let blocker: Server;
  let taken = 0;
  const dir = mkdtempSync(join(tmpdir(), 'verity-demo-ports-'));
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    taken = (blocker.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => blocker.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('names a taken port in one clear line and exits 2', async () => {
    const r = await runCli(['demo', '--base-port', String(taken), '--dir', join(dir, 'state'), '--pg-dir', join(dir, 'pg')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`port ${taken} on 127.0.0.1 is taken`);
  });

  it('finds distinct free ports when no base port is given', async () => {
    const ports = await allocatePorts(12);
    expect(new Set(ports).size).toBe(12);
    expect(ports).not.toContain(taken);
  });
});
