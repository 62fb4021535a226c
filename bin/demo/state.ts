import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { takePidLock } from '../../common/pid-lock.js';

// What the demo keeps between runs, so a second `npm start` is the same demo: its database,
// its nodes' keys (under DIR/nodes), its admin token and audit secret, and its ports when they
// are still free (the URLs stay the same). `verity demo --fresh` throws all of it away.

export const DEMO_DB = 'verity_demo';
const STATE_FILE = 'state.json';
const LOCK_FILE = 'demo.pid';

export interface DemoState {
  adminToken: string;
  auditSecret: string;
  /** public, control, origin, then three per node; reused when all are free again. */
  ports: number[];
}

function readState(root: string): Partial<DemoState> {
  try {
    const parsed = JSON.parse(readFileSync(join(root, STATE_FILE), 'utf8')) as Partial<DemoState>;
    return {
      adminToken: typeof parsed.adminToken === 'string' && parsed.adminToken.length >= 24 ? parsed.adminToken : undefined,
      auditSecret: typeof parsed.auditSecret === 'string' && parsed.auditSecret.length >= 32 ? parsed.auditSecret : undefined,
      ports: Array.isArray(parsed.ports) && parsed.ports.every((p) => Number.isInteger(p)) ? parsed.ports : undefined,
    };
  } catch {
    return {};
  }
}

/** The kept state, with secrets made on the first run; `adminToken` from the environment wins. */
export function loadState(root: string, envAdminToken: string | undefined): Omit<DemoState, 'ports'> & { savedPorts: number[] } {
  const saved = readState(root);
  return {
    adminToken: envAdminToken ?? saved.adminToken ?? randomBytes(24).toString('base64url'),
    auditSecret: saved.auditSecret ?? randomBytes(32).toString('base64url'),
    savedPorts: saved.ports ?? [],
  };
}

export function saveState(root: string, state: DemoState): void {
  writeFileSync(join(root, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/** One demo per directory: a second one would share (and fight over) its nodes and database. */
export function lockDemoDir(root: string): Promise<() => Promise<void>> {
  mkdirSync(root, { recursive: true });
  return takePidLock(join(root, LOCK_FILE), 'DEMO_ERR_START', (pid) =>
    `another verity demo (pid ${pid}) is running with ${root}: stop it first (Ctrl-C in its terminal), or give this one its own --dir and --pg-dir`);
}

/** --fresh: everything in DIR but the lock we hold. */
export function wipeDemoDir(root: string): void {
  for (const entry of readdirSync(root)) if (entry !== LOCK_FILE) rmSync(join(root, entry), { recursive: true, force: true });
}

/** The demo's own database on the embedded server: kept, or made anew with `fresh`. */
export async function demoDatabase(serverUrl: string, fresh: boolean): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    if (fresh) await admin.query(`DROP DATABASE IF EXISTS ${DEMO_DB} WITH (FORCE)`);
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DEMO_DB]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE ${DEMO_DB}`);
  } finally {
    await admin.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${DEMO_DB}`;
  return u.toString();
}
