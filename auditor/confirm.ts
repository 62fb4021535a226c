import { enqueueAudit, type ClaimedAudit } from '../common/db/queries/audits.js';
import { markConfirmed } from '../common/db/queries/confirmations.js';
import type { Queryable } from '../common/db/pool.js';
import type { Confirmation } from '../common/domain/trust.js';
import type { AuditRun } from './checks/run-audit.js';
import { severityRank } from './compare/types.js';

// Confirmation before penalty (issue 14; Tor's exit scanners re-test before flagging, BOINC uses
// a quorum). A tamper verdict is unambiguous when an accusing finding needs no second look;
// otherwise it is unconfirmed, and confirmation audits of the same URL through the same node, as
// another visitor and with fresh origin renders, are queued. One that repeats the verdict
// confirms it.

/** Confirmation audits per unconfirmed verdict, and when they run (spread, so a node cannot tell a re-test by its timing). */
export const confirmationWindowsMs: ReadonlyArray<readonly [number, number]> = [[5_000, 60_000], [60_000, 600_000]];

export function confirmationOf(run: AuditRun, job: Pick<ClaimedAudit, 'reason'>): Confirmation | null {
  if (run.verdict !== 'tampered') return null;
  const accusing = run.findings.filter((f) => severityRank[f.severity] >= severityRank.medium);
  if (accusing.some((f) => f.unambiguous === true)) return 'unambiguous';
  return job.reason === 'confirm' ? 'confirmed' : 'unconfirmed';
}

/** Queues the confirmations of an unconfirmed verdict, or marks the original confirmed. */
export async function followUp(db: Queryable, job: ClaimedAudit, confirmation: Confirmation | null, now: Date, random: () => number, windows = confirmationWindowsMs): Promise<number> {
  if (job.confirmsAuditId && confirmation !== null) {
    await markConfirmed(db, job.confirmsAuditId);
    return 0;
  }
  if (confirmation !== 'unconfirmed') return 0;
  let queued = 0;
  for (const [lo, hi] of windows) {
    const runAfter = new Date(now.getTime() + lo + (hi - lo) * random());
    if (await enqueueAudit(db, { nodeId: job.nodeId, siteId: job.siteId, url: job.url, reason: 'confirm', runAfter, confirmsAuditId: job.id })) queued++;
  }
  return queued;
}
