import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { formatDuration } from '../../common/config/shared.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../common/db/embedded.js';
import { migrate } from '../../common/db/migrate.js';
import { createPool, endPool, type Pool } from '../../common/db/pool.js';
import { upsertSite } from '../../common/db/queries/sites.js';
import { createJoinToken } from '../../common/db/queries/tokens.js';
import { createLogger, type Logger } from '../../common/log.js';
import type { ConfigOf } from '../../common/config/options.js';
import { runProgram, type ProgramIO } from '../../common/program.js';
import { samplePrivateRoutes, startSampleOrigin } from '../../test/support/origin/index.js';
import { publicPages } from '../../test/support/origin/pages.js';
import { demoProgram } from './config.js';
import { nodeName, nodePlaces } from './places.js';
import { choosePorts } from './ports.js';
import { spawnVerity, waitForHttp, type ManagedProcess } from './processes.js';
import { createProgress } from './progress.js';
import { startRogueProxy } from './rogue-proxy.js';
import { startStatusLine } from './status-line.js';
import { httpsLines, setUpDemoHttps } from './local-ca.js';
import { demoDatabase, loadState, lockDemoDir, saveState, wipeDemoDir } from './state.js';
import { startVisitors, type VisitorSimulator } from './visitors.js';

export const DEMO_SITE_HOST = 'demo.localhost';

type DemoConfig = ConfigOf<typeof demoProgram.options>;

interface Running {
  processes: ManagedProcess[];
  servers: Server[];
  closers: (() => Promise<void>)[];
  visitors?: VisitorSimulator;
  stopStatus?: () => void;
  pool?: Pool;
  pg?: EmbeddedDatabase;
}

interface Ports {
  publicPort: number;
  controlPort: number;
  originPort: number;
  nodePorts: number[];
  tlsPort: number;
}

/**
 * Stops everything in the order that loses nothing: the auditor first (its audits in flight
 * finish while nodes and balancer still answer), then the nodes (each tells the balancer it
 * drains), then the balancer, and PostgreSQL last. Resolves with the programs that did not exit 0.
 */
async function shutdown(r: Running): Promise<string[]> {
  r.stopStatus?.();
  r.visitors?.stop();
  const failed: string[] = [];
  const stop = async (p: ManagedProcess, graceMs: number) => {
    const code = await p.stop(graceMs);
    if (code !== 0) failed.push(`${p.name} exited with code ${code} (see ${p.logFile})`);
  };
  const auditor = r.processes.filter((p) => p.name === 'auditor');
  const nodes = r.processes.filter((p) => p.name.startsWith('node-'));
  const rest = r.processes.filter((p) => !auditor.includes(p) && !nodes.includes(p));
  await Promise.all(auditor.map((p) => stop(p, 90_000)));
  await Promise.all(nodes.map((p) => stop(p, 35_000)));
  await Promise.all(rest.map((p) => stop(p, 35_000)));
  for (const s of r.servers) s.close();
  for (const c of r.closers) await c().catch(() => undefined);
  if (r.pool) await endPool(r.pool).catch(() => undefined);
  await r.pg?.stop().catch(() => undefined);
  return failed;
}

async function preparePorts(config: DemoConfig, saved: number[]): Promise<Ports> {
  const [publicPort, controlPort, originPort, ...rest] = (await choosePorts(4 + 3 * config.nodes, config.basePort, saved)) as number[];
  return { publicPort, controlPort, originPort, nodePorts: rest.slice(0, 3 * config.nodes), tlsPort: rest[3 * config.nodes] } as Ports;
}

async function startBalancer(running: Running, env: Record<string, string | undefined>, ports: Ports, logDir: string): Promise<void> {
  const balancer = spawnVerity({ name: 'balancer', args: ['balancer', '--listen', `127.0.0.1:${ports.publicPort}`, '--tls-listen', `127.0.0.1:${ports.tlsPort}`, '--control-listen', `127.0.0.1:${ports.controlPort}`,
    // Demo nodes all share 127.0.0.0/24, which the Sybil cap treats as one volunteer: let
    // probation nodes carry half the traffic so the map moves before audits promote them.
    '--probation-share', '0.5', '--shadow-share', '0.1'], env, logDir });
  running.processes.push(balancer);
  await waitForHttp(`http://127.0.0.1:${ports.controlPort}/healthz`, 30_000, balancer);
}

async function startNodes(running: Running, config: DemoConfig, o: { root: string; token: string; ports: Ports; logDir: string }): Promise<void> {
  const started: Promise<unknown>[] = [];
  for (let i = 0; i < config.nodes; i++) {
    const rogue = i >= config.nodes - config.rogue;
    const name = nodeName(i, rogue);
    const place = nodePlaces[i % nodePlaces.length] ?? { lat: 0, lon: 0 };
    const [listen, status, front] = o.ports.nodePorts.slice(3 * i, 3 * i + 3) as [number, number, number];
    if (rogue) running.servers.push(await startRogueProxy({ listenPort: front, nodePort: listen, tamperRate: 0.6 }));
    const node = spawnVerity({
      name: `node-${name}`,
      args: ['node', '--balancer', `http://127.0.0.1:${o.ports.controlPort}`, '--token', o.token, '--listen', `127.0.0.1:${listen}`, '--public-url', `http://127.0.0.1:${rogue ? front : listen}`,
        '--status-listen', `127.0.0.1:${status}`, '--location', `${place.lat},${place.lon}`, '--name', name, '--data-dir', join(o.root, 'nodes', name)],
      env: { VERITY_LOG_LEVEL: 'info' },
      logDir: o.logDir,
    });
    running.processes.push(node);
    started.push(waitForHttp(`http://127.0.0.1:${status}/`, 30_000, node));
  }
  await Promise.all(started);
}

async function startAuditor(running: Running, config: DemoConfig, env: Record<string, string | undefined>, publicUrl: string, logDir: string): Promise<void> {
  const auditor = spawnVerity({ name: 'auditor', args: ['auditor', '--concurrency', '2', '--audit-every', formatDuration(config.auditEvery), '--balancer-url', publicUrl, '--metrics-listen', '127.0.0.1:0'], env, logDir });
  running.processes.push(auditor);
  // Its start line comes once it handles signals and runs: a Ctrl-C right after "ready" stops it cleanly.
  await auditor.waitForLine(/^auditor: /, 60_000);
}

function readyText(o: { ports: Ports; adminToken: string; logDir: string; root: string; pgDir: string; caFile: string }): string {
  const site = `http://${DEMO_SITE_HOST}:${o.ports.publicPort}/`;
  return ['', 'verity demo ready', `site: ${site}`, `dashboard: http://127.0.0.1:${o.ports.controlPort}/`, `admin token: ${o.adminToken}`,
    // *.localhost resolves to loopback in browsers and curl, not in wget, Node or Python.
    `site from any HTTP client: curl -H 'Host: ${DEMO_SITE_HOST}' http://127.0.0.1:${o.ports.publicPort}/`,
    ...httpsLines(DEMO_SITE_HOST, o.ports.tlsPort, o.caFile),
    `logs: ${o.logDir}`,
    `kept for the next run: ${o.root} and ${o.pgDir} (verity demo --fresh starts over)`,
    '', 'Press Ctrl-C to stop.', ''].join('\n');
}

/** Everything up to "verity demo ready", with the state of the last run where there is one. */
async function startAll(running: Running, config: DemoConfig, io: ProgramIO, log: Logger, root: string): Promise<void> {
  const progress = createProgress(io);
  const logDir = join(root, 'logs');
  const state = loadState(root, io.env.VERITY_ADMIN_TOKEN);
  const ports = await preparePorts(config, state.savedPorts);
  saveState(root, { adminToken: state.adminToken, auditSecret: state.auditSecret, ports: [ports.publicPort, ports.controlPort, ports.originPort, ...ports.nodePorts, ports.tlsPort] });

  running.pg = await progress.step('PostgreSQL (embedded)', () => startEmbeddedPostgres({ dir: config.pgDir, log }));
  const databaseUrl = await demoDatabase(running.pg.url, config.fresh);
  running.pool = createPool({ url: databaseUrl, log });
  await progress.step('database schema', () => migrate(running.pool as Pool, log));

  const origin = await progress.step('sample origin site', () => startSampleOrigin({ port: ports.originPort }));
  running.closers.push(origin.close);
  // The shop's pages change on every request (nonces, tokens): sampled, so the demo shows audits at work.
  const site = await upsertSite(running.pool, { host: DEMO_SITE_HOST, origin: origin.url, privateRoutes: samplePrivateRoutes, dynamicPolicy: 'sampled' });
  // Nodes kept from an earlier run re-use their identity; a new one needs this token.
  const { token } = await createJoinToken(running.pool, { siteId: site.id, uses: config.nodes, ttlMs: 3_600_000, createdBy: 'demo' });
  // A new secret every run: the site's certificate is sealed anew with it before the balancer starts.
  const tlsSecret = randomBytes(32).toString('base64url');
  const { caFile } = await setUpDemoHttps(running.pool, root, site, tlsSecret);

  const env = {
    DATABASE_URL: databaseUrl, VERITY_ADMIN_TOKEN: state.adminToken, VERITY_AUDIT_SECRET: state.auditSecret,
    VERITY_ALLOW_PRIVATE_NODE_URLS: '1', VERITY_TRUSTED_PROXIES: '127.0.0.1/32', VERITY_LOG_LEVEL: 'info', VERITY_CONFIG: undefined, VERITY_TLS_SECRET: tlsSecret,
  };
  const publicUrl = `http://127.0.0.1:${ports.publicPort}`;
  await progress.step('balancer', () => startBalancer(running, env, ports, logDir));
  await progress.step(`${config.nodes} volunteer nodes (${config.rogue} rogue)`, () => startNodes(running, config, { root, token, ports, logDir }));
  await progress.step('auditor', () => startAuditor(running, config, env, publicUrl, logDir));

  running.visitors = startVisitors({ balancerUrl: publicUrl, siteHost: DEMO_SITE_HOST, paths: Object.keys(publicPages), requestsPerSecond: config.visitorRate });
  io.stdout.write(readyText({ ports, adminToken: state.adminToken, logDir, root, pgDir: resolve(config.pgDir), caFile }));
  running.stopStatus = startStatusLine({ io, pool: running.pool, visitors: running.visitors });
}

/** Until Ctrl-C/SIGTERM or a program exiting on its own; then everything stops in order. */
async function runUntilStopped(running: Running, io: ProgramIO, stopSignal: Promise<string>): Promise<number> {
  const exitedEarly = Promise.race(running.processes.map((p) => p.exited.then((code) => `${p.name} exited with code ${code} (see ${p.logFile})`)));
  const why = await Promise.race([stopSignal, exitedEarly]);
  io.stdout.write(`\nstopping (${why})…\n`);
  const failed = await shutdown(running);
  if (why.startsWith('SIG') && failed.length === 0) {
    io.stdout.write('stopped cleanly\n');
    return 0;
  }
  io.stdout.write(`stopped; ${failed.length ? failed.join('; ') : why}\n`);
  return 1;
}

export function run(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(demoProgram, argv, io, async (config) => {
    const log = createLogger({ name: 'demo', level: config.logLevel === 'info' ? 'warn' : config.logLevel, pretty: false });
    const root = resolve(config.dir);
    const unlock = await lockDemoDir(root);
    if (config.fresh) wipeDemoDir(root);
    const running: Running = { processes: [], servers: [], closers: [] };
    let onSignal: (sig: NodeJS.Signals) => void = () => undefined;
    const stopSignal = new Promise<string>((r) => (onSignal = (sig) => r(sig)));
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await startAll(running, config, io, log, root);
      return await runUntilStopped(running, io, stopSignal);
    } catch (err) {
      await shutdown(running);
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await unlock();
    }
  });
}
