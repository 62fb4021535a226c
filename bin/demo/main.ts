import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../common/db/embedded.js';
import { migrate } from '../../common/db/migrate.js';
import { createPool, type Pool } from '../../common/db/pool.js';
import { insertSite } from '../../common/db/queries/sites.js';
import { createJoinToken } from '../../common/db/queries/tokens.js';
import { VerityError } from '../../common/errors.js';
import { createLogger } from '../../common/log.js';
import { runProgram, type ProgramIO } from '../../common/program.js';
import { samplePrivateRoutes, startSampleOrigin } from '../../test/support/origin/index.js';
import { publicPages } from '../../test/support/origin/pages.js';
import { demoProgram } from './config.js';
import { nodeName, nodePlaces } from './places.js';
import { allocatePorts } from './ports.js';
import { spawnVerity, waitForHttp, type ManagedProcess } from './processes.js';
import { createProgress } from './progress.js';
import { httpsLines, setUpDemoHttps } from './local-ca.js';
import { startRogueProxy } from './rogue-proxy.js';
import { startStatusLine } from './status-line.js';
import { startVisitors, type VisitorSimulator } from './visitors.js';

export const DEMO_SITE_HOST = 'demo.localhost';
const DEMO_DB = 'verity_demo';

interface Running {
  processes: ManagedProcess[];
  servers: Server[];
  closers: (() => Promise<void>)[];
  visitors?: VisitorSimulator;
  stopStatus?: () => void;
  pool?: Pool;
  pg?: EmbeddedDatabase;
}

async function freshDatabase(serverUrl: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DEMO_DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DEMO_DB}`);
  } finally {
    await admin.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${DEMO_DB}`;
  return u.toString();
}

async function shutdown(r: Running): Promise<void> {
  r.stopStatus?.();
  r.visitors?.stop();
  // Nodes first (they tell the balancer they drain), then auditor and balancer.
  await Promise.all(r.processes.filter((p) => p.name.startsWith('node-')).map((p) => p.stop()));
  await Promise.all(r.processes.filter((p) => !p.name.startsWith('node-')).map((p) => p.stop()));
  for (const s of r.servers) s.close();
  for (const c of r.closers) await c().catch(() => undefined);
  await r.pool?.end().catch(() => undefined);
  await r.pg?.stop().catch(() => undefined);
}

export function run(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(demoProgram, argv, io, async (config) => {
    const log = createLogger({ name: 'demo', level: config.logLevel === 'info' ? 'warn' : config.logLevel, pretty: false });
    const progress = createProgress(io);
    const root = resolve(config.dir);
    const logDir = join(root, 'logs');
    rmSync(root, { recursive: true, force: true });
    const running: Running = { processes: [], servers: [], closers: [] };
    let onSignal: (sig: NodeJS.Signals) => void = () => undefined;
    const stopSignal = new Promise<string>((r) => (onSignal = (sig) => r(sig)));
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const [publicPort, controlPort, originPort, ...nodePorts] = (await allocatePorts(3 + 3 * config.nodes, config.basePort)) as number[];
      const [tlsPort] = (await allocatePorts(1, config.basePort === undefined ? undefined : config.basePort + 3 + 3 * config.nodes)) as [number];
      const adminToken = io.env.VERITY_ADMIN_TOKEN ?? randomBytes(24).toString('base64url');
      const auditSecret = randomBytes(32).toString('base64url');
      const tlsSecret = randomBytes(32).toString('base64url');

      running.pg = await progress.step('PostgreSQL (embedded)', () => startEmbeddedPostgres({ dir: config.pgDir, log }));
      const databaseUrl = await freshDatabase(running.pg.url);
      running.pool = createPool({ url: databaseUrl, log });
      await progress.step('database schema', () => migrate(running.pool as Pool, log));

      const origin = await progress.step('sample origin site', () => startSampleOrigin({ port: originPort }));
      running.closers.push(origin.close);
      // The shop's pages change on every request (nonces, tokens): sampled, so the demo shows audits at work.
      const site = await insertSite(running.pool, { host: DEMO_SITE_HOST, origin: origin.url, privateRoutes: samplePrivateRoutes, dynamicPolicy: 'sampled' });
      const { token } = await createJoinToken(running.pool, { siteId: site.id, uses: config.nodes, ttlMs: 3_600_000, createdBy: 'demo' });
      const demoCa = await setUpDemoHttps(running.pool, root, site, tlsSecret);

      const env = {
        DATABASE_URL: databaseUrl, VERITY_ADMIN_TOKEN: adminToken, VERITY_AUDIT_SECRET: auditSecret,
        VERITY_ALLOW_PRIVATE_NODE_URLS: '1', VERITY_TRUSTED_PROXIES: '127.0.0.1/32', VERITY_LOG_LEVEL: 'info', VERITY_CONFIG: undefined, VERITY_TLS_SECRET: tlsSecret,
      };
      const publicUrl = `http://127.0.0.1:${publicPort}`;
      const controlUrl = `http://127.0.0.1:${controlPort}`;
      await progress.step('balancer', async () => {
        const balancer = spawnVerity({ name: 'balancer', args: ['balancer', '--listen', `127.0.0.1:${publicPort}`, '--tls-listen', `127.0.0.1:${tlsPort}`, '--control-listen', `127.0.0.1:${controlPort}`,
          // Demo nodes all share 127.0.0.0/24, which the Sybil cap treats as one volunteer: let
          // probation nodes carry half the traffic so the map moves before audits promote them.
          '--probation-share', '0.5', '--shadow-share', '0.1'], env, logDir });
        running.processes.push(balancer);
        await waitForHttp(`${controlUrl}/healthz`, 30_000, balancer);
      });

      await progress.step(`${config.nodes} volunteer nodes (${config.rogue} rogue)`, async () => {
        const started: Promise<unknown>[] = [];
        for (let i = 0; i < config.nodes; i++) {
          const rogue = i >= config.nodes - config.rogue;
          const name = nodeName(i, rogue);
          const place = nodePlaces[i % nodePlaces.length] ?? { lat: 0, lon: 0 };
          const [listen, status, front] = [nodePorts[3 * i], nodePorts[3 * i + 1], nodePorts[3 * i + 2]] as [number, number, number];
          if (rogue) running.servers.push(await startRogueProxy({ listenPort: front, nodePort: listen, tamperRate: 0.6 }));
          const node = spawnVerity({
            name: `node-${name}`,
            args: ['node', '--balancer', controlUrl, '--token', token, '--listen', `127.0.0.1:${listen}`, '--public-url', `http://127.0.0.1:${rogue ? front : listen}`,
              '--status-listen', `127.0.0.1:${status}`, '--location', `${place.lat},${place.lon}`, '--name', name, '--data-dir', join(root, 'nodes', name)],
            env: { VERITY_LOG_LEVEL: 'info' },
            logDir,
          });
          running.processes.push(node);
          started.push(waitForHttp(`http://127.0.0.1:${status}/`, 30_000, node));
        }
        await Promise.all(started);
      });

      await progress.step('auditor', async () => {
        const auditor = spawnVerity({ name: 'auditor', args: ['auditor', '--concurrency', '2', '--audit-every', String(config.auditEvery), '--balancer-url', publicUrl, '--metrics-listen', '127.0.0.1:0'], env, logDir });
        running.processes.push(auditor);
        await new Promise((r) => setTimeout(r, 500));
        if (auditor.child.exitCode !== null) throw new VerityError('DEMO_ERR_START', `auditor exited at start (see ${auditor.logFile})`);
      });

      running.visitors = startVisitors({ balancerUrl: publicUrl, siteHost: DEMO_SITE_HOST, paths: Object.keys(publicPages), requestsPerSecond: config.visitorRate });
      const sitePort = publicPort;
      io.stdout.write(['', 'verity demo ready', `site: http://${DEMO_SITE_HOST}:${sitePort}/`, `dashboard: ${controlUrl}/`, `admin token: ${adminToken}`, ...httpsLines(DEMO_SITE_HOST, tlsPort, demoCa.caFile), `logs: ${logDir}`, '', 'Press Ctrl-C to stop.', ''].join('\n'));
      running.stopStatus = startStatusLine({ io, pool: running.pool, visitors: running.visitors });

      const exitedEarly = Promise.race(running.processes.map((p) => p.exited.then((code) => `${p.name} exited with code ${code} (see ${p.logFile})`)));
      const why = await Promise.race([stopSignal, exitedEarly]);
      io.stdout.write(`\nstopping (${why})…\n`);
      await shutdown(running);
      io.stdout.write('stopped cleanly\n');
      return why.startsWith('SIG') ? 0 : 1;
    } catch (err) {
      await shutdown(running);
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
}
