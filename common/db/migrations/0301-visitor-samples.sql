-- Audits look like the visitors of that node (issue 15.1). The balancer samples the traffic mix it
-- serves: per request site, node, URL, the visitor's country and browser headers (never the
-- address), and the navigation context. Bounded: old rows are pruned by the writer.
ALTER TABLE url_samples ADD COLUMN first_seen_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX url_samples_first_seen_idx ON url_samples (site_id, first_seen_at DESC);

CREATE TABLE visitor_samples (
  id              bigserial PRIMARY KEY,
  site_id         uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  node_id         text REFERENCES nodes (id) ON DELETE CASCADE,
  path            text NOT NULL,
  country         text,
  accept_language text,
  user_agent      text,
  sec_fetch_site  text,
  conditional     boolean NOT NULL DEFAULT false,
  secure          boolean NOT NULL DEFAULT false,
  at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visitor_samples_node_idx ON visitor_samples (node_id, site_id, at DESC);
CREATE INDEX visitor_samples_at_idx ON visitor_samples (at);
