-- Balancer-side traffic per node and minute, for the dashboard's traffic share and latency.
-- Several balancers add into the same row (INSERT ... ON CONFLICT DO UPDATE), so the figures
-- are sums: requests and errors add up; latency percentiles are request-weighted averages.
CREATE TABLE node_traffic (
  node_id  text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  minute   timestamptz NOT NULL CHECK (minute = date_trunc('minute', minute)),
  requests bigint NOT NULL DEFAULT 0 CHECK (requests >= 0),
  errors   bigint NOT NULL DEFAULT 0 CHECK (errors >= 0),
  p50_ms   double precision,
  p99_ms   double precision,
  PRIMARY KEY (node_id, minute)
);
CREATE INDEX node_traffic_minute_idx ON node_traffic (minute);

CREATE INDEX sessions_expires_idx ON sessions (expires_at);
