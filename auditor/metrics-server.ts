import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ListenAddress } from '../common/config/shared.js';
import { listenOn } from '../common/listen.js';
import type { Pool } from '../common/db/pool.js';
import { auditQueueLagMs } from '../common/db/queries/audits.js';

// /healthz and /metrics of one auditor process, on their own small listener (loopback by
// default): the auditor serves nothing else, and an orchestrator needs both.

export interface AuditorMetrics {
  registry: Registry;
  observeAudit(verdict: string, durationMs: number, rendered: string): void;
}

export function createAuditorMetrics(pool: Pool): AuditorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'verity_auditor_' });
  const audits = new Counter({ name: 'verity_auditor_audits_total', help: 'Audits finished by this process, by verdict and rendering outcome.', labelNames: ['verdict', 'rendered'], registers: [registry] });
  const duration = new Histogram({
    name: 'verity_auditor_audit_duration_seconds', help: 'Time for one audit, origin fetches and rendering included.',
    buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60], registers: [registry],
  });
  new Gauge({
    name: 'verity_auditor_queue_lag_seconds', help: 'How far the oldest due audit is behind (shared queue, all auditors).', registers: [registry],
    async collect() {
      this.set((await auditQueueLagMs(pool).catch(() => 0)) / 1000);
    },
  });
  return {
    registry,
    observeAudit(verdict, durationMs, rendered) {
      audits.inc({ verdict, rendered });
      duration.observe(durationMs / 1000);
    },
  };
}

export async function startAuditorMetricsServer(addr: ListenAddress, pool: Pool, metrics: AuditorMetrics): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      pool.query('SELECT 1').then(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
        () => res.writeHead(503, { 'content-type': 'application/json' }).end('{"ok":false,"error":"database unreachable"}'),
      );
      return;
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  const { port } = await listenOn(server, addr, { what: 'the auditor\'s health and metrics', flag: '--metrics-listen' });
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  return { url: `http://${host}:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}
