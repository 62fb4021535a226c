-- The audit schedule is the audits table itself: each (node, site) pair has at most one pending
-- scheduled audit, so any number of auditor processes can plan at once without duplicates
-- (INSERT … ON CONFLICT DO NOTHING). Shadow and admin audits are not limited.
CREATE UNIQUE INDEX audits_one_pending_scheduled ON audits (node_id, site_id)
  WHERE status <> 'done' AND reason IN ('scheduled', 'probation', 'rescan');
-- Stale running audits (a worker died) are found by their start time.
CREATE INDEX audits_running_idx ON audits (started_at) WHERE status = 'running';
