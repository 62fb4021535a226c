import { auditBacklog, claimDueDeliveries, fanOutEvents, notifyEvent, recentEvent, recordAttempt } from '../../common/db/queries/notifications.js';
import type { Pool } from '../../common/db/pool.js';
import type { Logger } from '../../common/log.js';
import type { Mailer } from '../mail/smtp.js';
import { sendDelivery } from './send.js';

// The notifier: every `pollMs`, new events become deliveries, due deliveries are sent, and the
// audit backlog is checked. Several balancers run it on one database: events are fanned out and
// deliveries claimed with FOR UPDATE SKIP LOCKED and a lease, so each is sent by one at a time.

export interface NotifierOptions {
  pollMs: number;
  /** First retry after this long, doubling each time, at most `maxDelayMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Attempts before a delivery is given up (failed). */
  maxAttempts: number;
  leaseMs: number;
  timeoutMs: number;
  /** audit.backlog: queued audits overdue by more than `backlogAgeMs` at or above this count; 0 = off. */
  backlogThreshold: number;
  backlogAgeMs: number;
  /** The alert repeats at most this often while the backlog lasts. */
  backlogRepeatMs: number;
}

export const defaultNotifierOptions: NotifierOptions = {
  pollMs: 1_000, retryBaseMs: 10_000, retryMaxMs: 3_600_000, maxAttempts: 10, leaseMs: 60_000, timeoutMs: 10_000,
  backlogThreshold: 100, backlogAgeMs: 60_000, backlogRepeatMs: 3_600_000,
};

export interface NotifierDeps {
  pool: Pool;
  log: Logger;
  now: () => number;
  mailer: Mailer | null;
  checkUrl: (url: string) => Promise<string | null>;
}

export interface Notifier {
  /** One round (tests call it directly). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/** Delay before attempt number `attempt + 1`, after `attempt` failures (1, 2, …). */
export function retryDelayMs(attempt: number, o: Pick<NotifierOptions, 'retryBaseMs' | 'retryMaxMs'>): number {
  return Math.min(o.retryMaxMs, o.retryBaseMs * 2 ** Math.max(0, attempt - 1));
}

async function checkBacklog(deps: NotifierDeps, o: NotifierOptions): Promise<void> {
  if (o.backlogThreshold <= 0) return;
  const now = deps.now();
  const overdue = await auditBacklog(deps.pool, new Date(now - o.backlogAgeMs));
  if (overdue < o.backlogThreshold) return;
  if (await recentEvent(deps.pool, 'audit.backlog', null, new Date(now - o.backlogRepeatMs))) return;
  await notifyEvent(deps.pool, { kind: 'audit.backlog', at: new Date(now), reason: `${overdue} audits are waiting more than ${Math.round(o.backlogAgeMs / 1000)} s for an auditor (alert at ${o.backlogThreshold}): start more auditors or raise --concurrency` });
}

async function sendDue(deps: NotifierDeps, o: NotifierOptions): Promise<void> {
  const due = await claimDueDeliveries(deps.pool, { now: new Date(deps.now()), leaseMs: o.leaseMs, limit: 20 });
  await Promise.all(due.map(async (d) => {
    const started = deps.now();
    const out = await sendDelivery(d, { now: deps.now, mailer: deps.mailer, timeoutMs: o.timeoutMs, checkUrl: deps.checkUrl });
    const at = deps.now();
    const attempt = d.attempts + 1;
    const retryAt = out.ok || attempt >= o.maxAttempts ? null : new Date(at + retryDelayMs(attempt, o));
    await recordAttempt(deps.pool, d.id, { at: new Date(at), ok: out.ok, statusCode: out.statusCode, error: out.error, durationMs: at - started }, retryAt);
    if (!out.ok) deps.log.info({ delivery: { id: d.id, event: d.event.kind, channel: d.channel, attempt, error: out.error, retryAt } }, 'notification not delivered');
  }));
}

export function startNotifier(deps: NotifierDeps, options: Partial<NotifierOptions> = {}): Notifier {
  const o = { ...defaultNotifierOptions, ...options };
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = async (): Promise<void> => {
    await fanOutEvents(deps.pool, { email: deps.mailer !== null, now: new Date(deps.now()) });
    await sendDue(deps, o);
    await checkBacklog(deps, o);
  };
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = tick()
      .catch((err: unknown) => deps.log.warn({ err: (err as Error).message }, 'notifier round failed'))
      .finally(() => {
        running = null;
      });
  }, o.pollMs);
  timer.unref();
  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      deps.mailer?.close();
    },
  };
}
