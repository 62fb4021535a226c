import type { StatusView } from './status-page.js';

// Prometheus text exposition of what the status page shows, for volunteers who run a scraper.

function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function renderNodeMetrics(v: StatusView): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: [Record<string, string>, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, x]) => `${k}="${labelValue(x)}"`).join(',');
      lines.push(`${name}${l ? `{${l}}` : ''} ${value}`);
    }
  };
  metric('verity_node_requests_total', 'counter', 'Requests served, by cache outcome.', Object.entries(v.traffic.byStatus).map(([status, n]) => [{ cache: status }, n]));
  metric('verity_node_errors_total', 'counter', 'Requests that failed.', [[{}, v.traffic.errorsTotal]]);
  metric('verity_node_bytes_total', 'counter', 'Body bytes served.', [[{}, v.traffic.bytesTotal]]);
  metric('verity_node_in_flight', 'gauge', 'Requests being served now.', [[{}, v.traffic.inFlight]]);
  metric('verity_node_site_requests_total', 'counter', 'Requests served per site.', Object.entries(v.traffic.sites).map(([host, s]) => [{ site: host }, s.requests]));
  metric('verity_node_cache_bytes', 'gauge', 'Bytes held in the cache.', [[{}, v.cache.bytes]]);
  metric('verity_node_cache_entries', 'gauge', 'Entries held in the cache.', [[{}, v.cache.entries]]);
  metric('verity_node_cache_capacity_bytes', 'gauge', 'Cache size cap.', [[{}, v.cache.capBytes]]);
  if (v.standing) {
    metric('verity_node_integrity', 'gauge', 'Integrity score the balancer reports.', [[{}, v.standing.integrity]]);
    metric('verity_node_availability', 'gauge', 'Availability score the balancer reports.', [[{}, v.standing.availability]]);
    metric('verity_node_status', 'gauge', 'Status the balancer reports (1 for the current one).', [[{ status: v.standing.status }, 1]]);
    metric('verity_node_penalties', 'gauge', 'Penalties the balancer reports.', [[{}, v.standing.penalties.length]]);
  }
  return `${lines.join('\n')}\n`;
}
