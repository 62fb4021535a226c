import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, stackLines } from '../../support/cli.js';
import { useTestDatabase } from '../../support/db.js';

// A port that is already taken: every program, for each of its listeners, exits at once with
// one line naming the port, what was to listen there and the flag that moves it.

const db = useTestDatabase();
const dir = mkdtempSync(join(tmpdir(), 'verity-busy-ports-'));
let blocker: Server;
let busy = 0;

beforeAll(async () => {
  blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  busy = (blocker.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => blocker.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function expectOneLine(argv: string[], env: Record<string, string>, what: string, flag: string): Promise<void> {
  const t0 = Date.now();
  const r = await spawnCli(argv, env, { timeoutMs: 30_000 });
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
  expect(Date.now() - t0).toBeLessThan(20_000);
  expect(stackLines(r.stderr)).toEqual([]);
  expect(r.stderr).not.toMatch(/Cannot use a pool|connection lost/);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toEqual([`error CLI_ERR_LISTEN: port ${busy} on 127.0.0.1 is already in use (${what}): choose another ${flag}`]);
}

describe('a busy port', () => {
  // With workers (the default: one per core) and in one process (--workers 1).
  it.each([['2'], ['1']])("stops the balancer at once (--workers %s), naming the public proxy's port and --listen", async (workers) => {
    await expectOneLine(['balancer', '--workers', workers, '--listen', `127.0.0.1:${busy}`, '--control-listen', '127.0.0.1:0'], { DATABASE_URL: db.url }, "the balancer's public proxy", '--listen');
  });

  it.each([['2'], ['1']])("stops the balancer at once (--workers %s), naming the control plane's port and --control-listen", async (workers) => {
    await expectOneLine(['balancer', '--workers', workers, '--listen', '127.0.0.1:0', '--control-listen', `127.0.0.1:${busy}`], { DATABASE_URL: db.url }, "the balancer's control plane", '--control-listen');
  });

  it('stops a node, naming its listener or its status page and the flag for each', async () => {
    const node = ['node', '--balancer', 'http://127.0.0.1:9', '--data-dir', join(dir, 'node')];
    await expectOneLine([...node, '--listen', `127.0.0.1:${busy}`, '--status-listen', '127.0.0.1:0'], {}, "the node's listener for the balancer", '--listen');
    await expectOneLine([...node, '--listen', '127.0.0.1:0', '--status-listen', `127.0.0.1:${busy}`], {}, "the node's status page", '--status-listen');
  });

  it("stops the auditor, naming its health and metrics port and --metrics-listen", async () => {
    await expectOneLine(['auditor', '--metrics-listen', `127.0.0.1:${busy}`], { DATABASE_URL: db.url, PUPPETEER_EXECUTABLE_PATH: '/nonexistent/chrome' }, "the auditor's health and metrics", '--metrics-listen');
  });
});
