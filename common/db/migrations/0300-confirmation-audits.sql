-- Confirmation before penalty (issue 14): a tamper verdict that is not unambiguous queues
-- confirmation audits of the same URL through the same node (reason 'confirm'), each pointing at
-- the audit it confirms. Confirmations are not limited by the planner's one-pending rule.
ALTER TABLE audits ADD COLUMN confirms_audit_id uuid REFERENCES audits (id) ON DELETE SET NULL;
CREATE INDEX audits_confirms_idx ON audits (confirms_audit_id) WHERE confirms_audit_id IS NOT NULL;
