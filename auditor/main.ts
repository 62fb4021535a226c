import { formatDuration } from '../common/config/shared.js';
import { openDatabase } from '../common/db/open.js';
import { getOrCreateSetting } from '../common/db/queries/settings.js';
import { createLogger } from '../common/log.js';
import { runProgram, type ProgramIO } from '../common/program.js';
import { startAuditor } from './app.js';
import { auditorProgram } from './config.js';
import { createAuditorMetrics, startAuditorMetricsServer } from './metrics-server.js';

// The only auditor file that reads the environment (through runProgram) and handles signals.

/** Listens from the very start, so a signal during start-up is not lost (or fatal). */
function signalWatcher(): { received: Promise<string>; dispose(): void } {
  let resolve: (sig: string) => void = () => undefined;
  const received = new Promise<string>((r) => (resolve = r));
  const onTerm = (): void => resolve('SIGTERM');
  const onInt = (): void => resolve('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  return {
    received,
    dispose: () => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
    },
  };
}

export function run(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(auditorProgram, argv, io, async (config) => {
    const signals = signalWatcher();
    const log = createLogger({ level: config.logLevel, name: 'auditor' });
    const db = await openDatabase(config, log, { applicationName: 'verity-auditor', poolMax: config.concurrency + 3 });
    try {
      const auditSecret = config.auditSecret ?? (await getOrCreateSetting(db.pool, 'audit_secret')).value;
      const metrics = createAuditorMetrics(db.pool);
      const metricsServer = await startAuditorMetricsServer(config.metricsListen, db.pool, metrics);
      const auditor = await startAuditor({
        onAuditDone: (verdict, ms, rendered) => metrics.observeAudit(verdict, ms, rendered),
        concurrency: config.concurrency, auditEverySeconds: config.auditEvery / 1000, balancerUrl: config.balancerUrl ?? null, auditSecret,
        recycleEvery: config.recycleEvery, loadTimeoutMs: config.loadTimeout, stepTimeoutMs: config.stepTimeout, settleMs: config.settle,
        auditTimeoutMs: config.auditTimeout, browser: config.browser, env: io.env, allowNoSandbox: config.allowNoSandbox, logLevel: config.logLevel,
      }, { pool: db.pool, log });
      if (auditor.browserMissing) io.stderr.write(`verity auditor: ${auditor.browserMissing}\n`);
      if (auditor.renderer && !auditor.renderer.sandboxReport.on) io.stderr.write(`verity auditor: WARNING: Chromium runs WITHOUT its sandbox (--allow-no-sandbox): ${auditor.renderer.sandboxReport.detail}\n`);
      if (!config.balancerUrl) log.warn('no --balancer-url: nodes are audited at their own addresses, not through the balancer');
      io.stdout.write(`auditor: ${config.concurrency} at once, every node at least every ${formatDuration(config.auditEvery)}${auditor.renderer ? `, rendering in Chromium (${auditor.renderer.sandboxReport.on ? 'sandboxed' : 'NOT sandboxed'})` : ''}; health and metrics at ${metricsServer.url}/healthz, /metrics\n`);
      const signal = await signals.received;
      log.info({ signal }, 'shutting down: finishing audits in flight');
      await auditor.stop();
      await metricsServer.close();
      return 0;
    } finally {
      await db.close();
      signals.dispose();
    }
  });
}
