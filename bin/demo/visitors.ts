import { Agent, request } from 'node:http';
import { visitorAddresses } from './places.js';

const userAgents = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
];

export interface VisitorStats {
  sent: number;
  ok: number;
  failed: number;
  byNode: Map<string, number>;
}

export interface VisitorSimulator {
  stats: VisitorStats;
  /** Requests per second over the last window. */
  rate(): number;
  stop(): void;
}

export interface VisitorOptions {
  /** Balancer public address, e.g. http://127.0.0.1:8080 */
  balancerUrl: string;
  siteHost: string;
  paths: string[];
  requestsPerSecond: number;
  random?: () => number;
}

/**
 * Sends a steady, bounded trickle of visitor requests from many countries so the demo's map and
 * charts move. The demo trusts loopback as a proxy, so X-Forwarded-For carries the visitor.
 */
export function startVisitors(opts: VisitorOptions): VisitorSimulator {
  const random = opts.random ?? Math.random;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const target = new URL(opts.balancerUrl);
  const stats: VisitorStats = { sent: 0, ok: 0, failed: 0, byNode: new Map() };
  const recent: number[] = [];
  let inFlight = 0;
  const send = () => {
    if (inFlight >= 16) return; // never pile up behind a slow stack
    const visitor = pick(visitorAddresses);
    inFlight++;
    stats.sent++;
    recent.push(Date.now());
    const req = request({
      host: target.hostname, port: target.port, path: pick(opts.paths), method: 'GET', agent, timeout: 10_000,
      headers: { host: opts.siteHost, 'user-agent': pick(userAgents), accept: 'text/html,*/*;q=0.8', 'accept-language': 'en-US,en;q=0.9', 'x-forwarded-for': visitor.ip },
    }, (res) => {
      const node = String(res.headers['x-verity-node'] ?? 'none');
      stats.byNode.set(node, (stats.byNode.get(node) ?? 0) + 1);
      res.resume();
      res.on('end', () => {
        inFlight--;
        if ((res.statusCode ?? 500) < 500) stats.ok++;
        else stats.failed++;
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      inFlight--;
      stats.failed++;
    });
    req.end();
  };
  const timer = setInterval(send, Math.max(10, Math.round(1000 / opts.requestsPerSecond)));
  timer.unref();
  return {
    stats,
    rate() {
      const cutoff = Date.now() - 5000;
      while (recent.length && (recent[0] ?? 0) < cutoff) recent.shift();
      return recent.length / 5;
    },
    stop() {
      clearInterval(timer);
      agent.destroy();
    },
  };
}
