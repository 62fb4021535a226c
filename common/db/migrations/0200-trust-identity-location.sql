-- Trust that counts proven failures apart (common/domain/trust.ts `provenFailures`): confirmed or
-- unambiguous findings only. Until now every failure counted toward quarantine; carry that over.
ALTER TABLE nodes ADD COLUMN proven_failures double precision NOT NULL DEFAULT 0 CHECK (proven_failures >= 0);
UPDATE nodes SET proven_failures = GREATEST(0, integrity_beta - 1);

-- Checked locations (common/domain/location-check.ts): what GeoIP said at registration, the
-- verdict, and where the node is routed. Until a node registers again, its claim is used as given.
ALTER TABLE nodes
  ADD COLUMN effective_lat double precision,
  ADD COLUMN effective_lon double precision,
  ADD COLUMN location_facts jsonb,
  ADD COLUMN location_check jsonb;
UPDATE nodes SET effective_lat = declared_lat, effective_lon = declared_lon;

-- The smallest round-trip time a balancer at a known place measured to a node at one public URL
-- (scheme, host and port: common/domain/identity.ts urlIdentity) with its health probes.
CREATE TABLE node_rtt (
  node_id     text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  url         text NOT NULL,
  vantage_lat double precision NOT NULL,
  vantage_lon double precision NOT NULL,
  min_rtt_ms  double precision NOT NULL CHECK (min_rtt_ms >= 0),
  samples     integer NOT NULL DEFAULT 1,
  measured_at timestamptz NOT NULL,
  PRIMARY KEY (node_id, url, vantage_lat, vantage_lon)
);

-- Where each node has been reached and where it registered from, so nodes sharing a public URL
-- or an address are linked (trust events apply to the group) and cannot launder trust.
CREATE TABLE node_identities (
  node_id       text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('url', 'address')),
  value         text NOT NULL,
  first_seen_at timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  PRIMARY KEY (node_id, kind, value)
);
CREATE INDEX node_identities_value_idx ON node_identities (kind, value);

-- A trust event that reached this node through a link records the node it happened to.
ALTER TABLE trust_events ADD COLUMN via_node text;

-- The routing position is the checked one: balancers reload a node when it moves.
DROP TRIGGER nodes_routing_changed ON nodes;
CREATE TRIGGER nodes_routing_changed
  AFTER INSERT OR DELETE OR UPDATE OF status, draining, integrity, availability, public_url, declared_lat, declared_lon,
    effective_lat, effective_lon, subnet, name
  ON nodes FOR EACH ROW EXECUTE FUNCTION verity_notify_node_changed();
