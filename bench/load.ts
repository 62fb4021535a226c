import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// One load run against one URL: wrk when it is installed (Debian's `wrk`), else autocannon.
// Bounded by `seconds`; the same settings for every target of a comparison.

export interface LoadResult { rps: number; requests: number; p50: number; p99: number; failures: number; tool: 'wrk' | 'autocannon' }

const WRK = '/usr/bin/wrk';

function ms(value: string, unit: string): number {
  const v = Number(value);
  return unit === 'us' ? v / 1000 : unit === 's' ? v * 1000 : unit === 'm' ? v * 60_000 : v;
}

function parseWrk(out: string): LoadResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const pct = (p: string): number => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)`).exec(out);
    return m ? ms(m[1] ?? '0', m[2] ?? 'ms') : Number.NaN;
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = sock ? sock.slice(1).reduce((a, n) => a + Number(n), 0) : 0;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return { rps, requests, p50: pct('50'), p99: pct('99'), failures: non2xx + errors, tool: 'wrk' };
}

export function haveWrk(): boolean {
  return existsSync(WRK);
}

export async function load(url: string, o: { headers: Record<string, string>; seconds: number; connections: number; insecure?: boolean }): Promise<LoadResult> {
  if (haveWrk()) {
    // wrk adds its own Host unless it sees one spelled `Host`: two Hosts would be a 400.
    const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--latency', ...Object.entries(o.headers).flatMap(([k, v]) => ['-H', `${k.toLowerCase() === 'host' ? 'Host' : k}: ${v}`]), url];
    const out = await new Promise<string>((resolve, reject) => execFile(WRK, args, { timeout: (o.seconds + 30) * 1000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))));
    return parseWrk(out);
  }
  type Cannon = (opts: Record<string, unknown>) => Promise<{ requests: { average: number; total: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number }>;
  const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;
  const r = await autocannon({ url, connections: o.connections, duration: o.seconds, headers: o.headers });
  return { rps: r.requests.average, requests: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, failures: r.non2xx + r.errors, tool: 'autocannon' };
}

const CLOCK_TICKS = 100;

function stat(pid: number): string[] | null {
  try {
    // Fields after the command (which may hold spaces): state, ppid, …, utime (12th), stime (13th).
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  } catch {
    return null;
  }
}

/** CPU time (ms, user + system) used so far by a process and its live children (nginx's workers, a balancer's). */
export function cpuMs(pid: number): number {
  const pids = [pid, ...readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => Number(stat(p)?.[1]) === pid)];
  return pids.reduce((a, p) => {
    const f = stat(p);
    return f ? a + (Number(f[11]) + Number(f[12])) * (1000 / CLOCK_TICKS) : a;
  }, 0);
}
