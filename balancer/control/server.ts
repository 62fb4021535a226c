import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ControlDeps, ControlPlugin } from './types.js';

// The control plane: health, metrics, and the plugins (node API, admin API, dashboard).

async function databaseAnswers(deps: ControlDeps, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([deps.pool.query('SELECT 1').then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function buildControlApp(deps: ControlDeps, plugins: readonly ControlPlugin[]): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 1024 * 1024,
    requestTimeout: 30_000, connectionTimeout: 60_000, keepAliveTimeout: 5_000, forceCloseConnections: 'idle',
  });
  app.get('/healthz', async (_req, reply) => {
    const ok = await databaseAnswers(deps, 2_000);
    return reply.code(ok ? 200 : 503).header('cache-control', 'no-store').send(ok ? { ok: true } : { ok: false, error: 'database does not answer' });
  });
  app.get('/metrics', async (_req, reply) => {
    const text = await deps.metrics.metrics();
    return reply.header('content-type', deps.metrics.contentType).header('cache-control', 'no-store').send(text);
  });
  for (const plugin of plugins) await plugin(app, deps);
  return app;
}
