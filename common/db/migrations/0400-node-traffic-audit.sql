-- Audit requests (pinned by the auditor to one node) are counted apart from visitor traffic:
-- a quarantined node gets no visitors but is still audited, and its audits must not show up as
-- a share of the site's traffic. Visitor rows have audit = false; audit rows audit = true.
ALTER TABLE node_traffic ADD COLUMN audit boolean NOT NULL DEFAULT false;
ALTER TABLE node_traffic DROP CONSTRAINT node_traffic_pkey;
ALTER TABLE node_traffic ADD PRIMARY KEY (node_id, minute, audit);
