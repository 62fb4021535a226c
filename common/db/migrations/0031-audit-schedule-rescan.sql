-- Admin rescans (reason 'rescan', queued from the dashboard) must never collide with the
-- planner's one-pending-audit rule: the rule covers only the planner's own reasons.
DROP INDEX IF EXISTS audits_one_pending_scheduled;
CREATE UNIQUE INDEX audits_one_pending_scheduled ON audits (node_id, site_id)
  WHERE status <> 'done' AND reason IN ('scheduled', 'probation');
