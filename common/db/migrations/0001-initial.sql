-- The shared state of every Verity program. Trust events are append-only: scores and states
-- on `nodes` are a cache of them, so any score can be explained and replayed.

CREATE TABLE settings (
  key        text PRIMARY KEY,
  value      text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sites (
  id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  host                   text NOT NULL UNIQUE CHECK (host = lower(host) AND host <> ''),
  origin                 text NOT NULL,
  private_routes         text[] NOT NULL DEFAULT '{}',
  -- Optional URL of a JSON manifest {path: sha256} the origin publishes for inline integrity.
  integrity_manifest_url text,
  created_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE nodes (
  id                 text PRIMARY KEY,            -- derived from the public key (see docs/node-protocol.md)
  name               text NOT NULL,
  public_key         text NOT NULL UNIQUE,        -- raw Ed25519 public key, base64url
  public_url         text NOT NULL,
  declared_lat       double precision,
  declared_lon       double precision,
  country            text,
  registered_ip      inet,
  subnet             text,                         -- /24 (IPv4) or /48 (IPv6) of registered_ip: Sybil grouping
  status             text NOT NULL DEFAULT 'probation'
                       CHECK (status IN ('probation', 'active', 'quarantined', 'banned', 'offline')),
  draining           boolean NOT NULL DEFAULT false,
  integrity_alpha    double precision NOT NULL DEFAULT 1,
  integrity_beta     double precision NOT NULL DEFAULT 1,
  availability_alpha double precision NOT NULL DEFAULT 1,
  availability_beta  double precision NOT NULL DEFAULT 1,
  integrity          double precision NOT NULL DEFAULT 0.5 CHECK (integrity BETWEEN 0 AND 1),
  availability       double precision NOT NULL DEFAULT 0.5 CHECK (availability BETWEEN 0 AND 1),
  trust_updated_at   timestamptz NOT NULL DEFAULT now(),
  clean_audit_streak integer NOT NULL DEFAULT 0,
  heartbeat_counter  bigint NOT NULL DEFAULT 0,
  last_heartbeat     jsonb,                        -- the figures of the last accepted heartbeat
  last_seen_at       timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX nodes_status_idx ON nodes (status);
CREATE INDEX nodes_subnet_idx ON nodes (subnet);

CREATE TABLE node_sites (
  node_id   text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  site_id   uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  joined_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node_id, site_id)
);
CREATE INDEX node_sites_site_idx ON node_sites (site_id);

CREATE TABLE join_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  site_id      uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  token_hash   bytea NOT NULL UNIQUE,              -- sha256 of the token; the token itself is shown once
  uses_allowed integer NOT NULL CHECK (uses_allowed > 0),
  uses_count   integer NOT NULL DEFAULT 0 CHECK (uses_count >= 0),
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  created_by   text NOT NULL DEFAULT 'cli',
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (uses_count <= uses_allowed)
);

-- An audit is both the job (status) and its result (verdict).
CREATE TABLE audits (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  node_id      text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  site_id      uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  url          text NOT NULL,
  reason       text NOT NULL DEFAULT 'scheduled',  -- scheduled | shadow | rescan | admin | probation
  status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done')),
  verdict      text CHECK (verdict IN ('pass', 'tampered', 'inconclusive', 'unreachable')),
  run_after    timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz,
  worker       text,
  attempts     integer NOT NULL DEFAULT 0,
  summary      jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'done') = (verdict IS NOT NULL))
);
CREATE INDEX audits_queue_idx ON audits (run_after) WHERE status = 'queued';
CREATE INDEX audits_node_idx ON audits (node_id, created_at DESC);
CREATE INDEX audits_verdict_idx ON audits (verdict, created_at DESC);

CREATE TABLE findings (
  id        bigserial PRIMARY KEY,
  audit_id  uuid NOT NULL REFERENCES audits (id) ON DELETE CASCADE,
  kind      text NOT NULL,
  severity  text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  summary   text NOT NULL,
  detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX findings_audit_idx ON findings (audit_id);

-- Evidence of audits (screenshots, diff images, fragments) and of inline strikes (hashes).
CREATE TABLE evidence (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  audit_id     uuid REFERENCES audits (id) ON DELETE CASCADE,
  node_id      text REFERENCES nodes (id) ON DELETE CASCADE,
  kind         text NOT NULL,
  content_type text NOT NULL,
  body         bytea NOT NULL,
  meta         jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (audit_id IS NOT NULL OR node_id IS NOT NULL)
);
CREATE INDEX evidence_audit_idx ON evidence (audit_id);
CREATE INDEX evidence_node_idx ON evidence (node_id, created_at DESC);

CREATE TABLE trust_events (
  id                 bigserial PRIMARY KEY,
  node_id            text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  at                 timestamptz NOT NULL DEFAULT now(),
  kind               text NOT NULL,
  integrity_after    double precision NOT NULL,
  availability_after double precision NOT NULL,
  status_after       text NOT NULL,
  reason             text NOT NULL,
  audit_id           uuid REFERENCES audits (id) ON DELETE SET NULL,
  evidence_id        uuid REFERENCES evidence (id) ON DELETE SET NULL,
  actor              text NOT NULL DEFAULT 'system'
);
CREATE INDEX trust_events_node_idx ON trust_events (node_id, at);

CREATE FUNCTION trust_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'trust_events is append-only';
END $$;
CREATE TRIGGER trust_events_no_update BEFORE UPDATE OR DELETE ON trust_events
  FOR EACH ROW EXECUTE FUNCTION trust_events_append_only();

CREATE TABLE admin_actions (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  action      text NOT NULL,
  target_kind text NOT NULL,
  target_id   text NOT NULL,
  reason      text NOT NULL DEFAULT '',
  detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX admin_actions_at_idx ON admin_actions (at DESC);

CREATE TABLE sessions (
  id_hash    bytea PRIMARY KEY,                    -- sha256 of the session cookie value
  csrf_token text NOT NULL,
  actor      text NOT NULL DEFAULT 'admin',
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);

-- What visitors actually request, so audits look at real pages.
CREATE TABLE url_samples (
  site_id      uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  path         text NOT NULL,
  hits         bigint NOT NULL DEFAULT 1,
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site_id, path)
);
