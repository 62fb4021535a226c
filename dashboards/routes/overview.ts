import type { FastifyInstance } from 'fastify';
import type { ControlDeps } from '../../balancer/control/types.js';
import { latestTamperFindings, overviewStats } from '../../common/db/queries/dashboard.js';
import { trafficSeries } from '../../common/db/queries/node-traffic.js';
import type { ChartSpec } from '../views/charts.js';
import type { RequestSampler } from '../traffic-sampler.js';
import { overviewLive, overviewPage, type OverviewData } from '../views/overview.js';
import { csrfOf, sendHtml } from './respond.js';

const HOUR_MS = 3600_000;

const perSecond = (perMinute: number): number => Math.round((perMinute / 60) * 100) / 100;

/** Visitor requests per second (audits apart: on a node's chart as their own line, on the overview not at all). */
export async function trafficChart(deps: ControlDeps, nodeId: string | null = null): Promise<ChartSpec> {
  const now = deps.now();
  const points = await trafficSeries(deps.pool, new Date(now - HOUR_MS), nodeId);
  const series: ChartSpec['series'] = [
    { label: 'requests/s', values: points.map((p) => perSecond(p.requests)), unit: 'req/s' },
    { label: 'errors/s', values: points.map((p) => perSecond(p.errors)), unit: 'req/s' },
  ];
  if (nodeId !== null) series.push({ label: 'audits/s', values: points.map((p) => perSecond(p.auditRequests)), unit: 'req/s' });
  return { kind: 'traffic', x: points.map((p) => p.minute.getTime() / 1000), series };
}

async function overviewData(deps: ControlDeps): Promise<OverviewData> {
  const now = deps.now();
  const [stats, findings, recent] = await Promise.all([
    overviewStats(deps.pool, new Date(now - 24 * HOUR_MS)),
    latestTamperFindings(deps.pool, 10),
    trafficSeries(deps.pool, new Date(now - 3 * 60_000)),
  ]);
  // The last complete minute: the current one is still being counted.
  const complete = recent.filter((p) => p.minute.getTime() + 60_000 <= now);
  const last = complete[complete.length - 1];
  const nodeCount = Object.values(stats.nodesByStatus).reduce((a, b) => a + b, 0);
  return { stats, findings, requestsPerSecond: last ? last.requests / 60 : null, rateSource: 'nodes', nodeCount };
}

/** node_traffic when a balancer writes it; else this process's own request counter. */
async function overviewTraffic(deps: ControlDeps, sampler: RequestSampler): Promise<ChartSpec> {
  const fromDb = await trafficChart(deps);
  if (fromDb.x.length > 0) return fromDb;
  const own = sampler.series();
  return { kind: 'traffic', x: own.x, series: [{ label: 'requests/s', values: own.rps, unit: 'req/s' }] };
}

export function overviewRoutes(app: FastifyInstance, deps: ControlDeps, sampler: RequestSampler): void {
  const data = async (): Promise<OverviewData> => {
    const d = await overviewData(deps);
    if (d.requestsPerSecond !== null) return d;
    const own = sampler.series().rps;
    return { ...d, requestsPerSecond: own.length ? (own[own.length - 1] ?? null) : null, rateSource: 'balancer' };
  };
  app.get('/', async (req, reply) => sendHtml(reply, overviewPage(await data(), await overviewTraffic(deps, sampler), csrfOf(req))));
  app.get('/fragments/overview', async (_req, reply) => sendHtml(reply, overviewLive(await data())));
  app.get('/fragments/traffic.json', async (_req, reply) => reply.header('cache-control', 'no-store').send(await overviewTraffic(deps, sampler)));
}
