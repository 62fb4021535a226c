import type { Pool } from '../../common/db/pool.js';
import type { ProgramIO } from '../../common/program.js';
import type { VisitorSimulator } from './visitors.js';

/**
 * One short live line: visitor load and nodes by status (rewritten in place on a terminal). The
 * rate is what the simulator sends, averaged over 5 s, origin-served pages included; the
 * dashboard's "Traffic now" counts what nodes served over the last full minute (README).
 */
export function startStatusLine(opts: { io: ProgramIO; pool: Pool; visitors: VisitorSimulator; intervalMs?: number }): () => void {
  const tty = process.stdout.isTTY === true;
  const interval = opts.intervalMs ?? (tty ? 2000 : 15_000);
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const { rows } = await opts.pool.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM nodes GROUP BY status ORDER BY status');
      const audits = await opts.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM audits WHERE status = 'done'");
      const s = opts.visitors.stats;
      const line = `simulated visitors send ${opts.visitors.rate().toFixed(1)} req/s (${s.ok} ok, ${s.failed} failed) | nodes ${rows.map((r) => `${r.status} ${r.n}`).join(', ') || 'none'} | audits ${audits.rows[0]?.n ?? 0}`;
      opts.io.stdout.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    } catch {
      // The database may be restarting; the next tick tries again.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), interval);
  return () => clearInterval(timer);
}
