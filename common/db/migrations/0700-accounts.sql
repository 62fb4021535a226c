-- Accounts and roles (docs/accounts.md): admins see and do everything, site owners their own
-- sites. Passwords are scrypt hashes; login links and API tokens are stored as sha256 only.
CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL UNIQUE CHECK (email = lower(email) AND email <> ''),
  role          text NOT NULL CHECK (role IN ('admin', 'owner')),
  password_hash text,
  created_by    text NOT NULL DEFAULT 'cli',
  created_at    timestamptz NOT NULL DEFAULT now(),
  disabled_at   timestamptz
);

CREATE TABLE user_sites (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  site_id uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, site_id)
);
CREATE INDEX user_sites_site_idx ON user_sites (site_id);

CREATE TABLE login_links (
  token_hash bytea PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);

-- A token acts as its user (role and sites), narrowed to `site_ids` when given.
CREATE TABLE api_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         text NOT NULL,
  token_hash   bytea NOT NULL UNIQUE,
  site_ids     uuid[],
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);

ALTER TABLE sessions ADD COLUMN user_id uuid REFERENCES users (id) ON DELETE CASCADE;
-- Which site an admin action concerns, so an owner sees the entries about their sites.
ALTER TABLE admin_actions ADD COLUMN site_id uuid;
CREATE INDEX admin_actions_site_idx ON admin_actions (site_id, at DESC);

-- Owners' sites: the ownership proof the origin serves, pausing, and deletion once drained.
ALTER TABLE sites
  ADD COLUMN paused          boolean NOT NULL DEFAULT false,
  ADD COLUMN delete_after    timestamptz,
  ADD COLUMN challenge_token text,
  ADD COLUMN challenge_proof text;

-- A site an owner asked for, until its origin serves the challenge.
CREATE TABLE site_claims (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id         uuid REFERENCES users (id) ON DELETE CASCADE,
  host            text NOT NULL CHECK (host = lower(host) AND host <> ''),
  origin          text NOT NULL,
  private_routes  text[] NOT NULL DEFAULT '{}',
  public_routes   text[] NOT NULL DEFAULT '{}',
  dynamic_policy  text NOT NULL DEFAULT 'origin' CHECK (dynamic_policy IN ('origin', 'sampled')),
  challenge_token text NOT NULL,
  challenge_proof text NOT NULL,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL
);

-- An owner's quarantine of a node for their site: the routing table leaves the node out of that
-- site's candidates (balancer/registry/load.ts); its trust and other sites are untouched.
CREATE TABLE site_node_exclusions (
  site_id    uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  node_id    text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  reason     text NOT NULL,
  actor      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site_id, node_id)
);

-- Volunteers' caps (bandwidth, monthly bytes, schedule), as their heartbeats report them, and
-- the balancer's decision to send a node no visitors for now.
ALTER TABLE nodes
  ADD COLUMN resting        boolean NOT NULL DEFAULT false,
  ADD COLUMN resting_reason text,
  ADD COLUMN caps           jsonb;

-- Credit: verified bytes a node served visitors, per day and site.
CREATE TABLE node_credit (
  node_id  text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  site_id  uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  day      date NOT NULL,
  bytes    bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
  requests bigint NOT NULL DEFAULT 0 CHECK (requests >= 0),
  PRIMARY KEY (node_id, site_id, day)
);
CREATE INDEX node_credit_day_idx ON node_credit (day);

-- Routing follows resting nodes, paused sites and exclusions.
DROP TRIGGER nodes_routing_changed ON nodes;
CREATE TRIGGER nodes_routing_changed
  AFTER INSERT OR DELETE OR UPDATE OF status, draining, resting, integrity, availability, public_url, declared_lat, declared_lon,
    effective_lat, effective_lon, subnet, name, tls_spki_sha256
  ON nodes FOR EACH ROW EXECUTE FUNCTION verity_notify_node_changed();

CREATE FUNCTION verity_notify_exclusion_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('verity_node_changed', COALESCE(NEW.node_id, OLD.node_id));
  RETURN NULL;
END $$;
CREATE TRIGGER site_node_exclusions_changed
  AFTER INSERT OR DELETE ON site_node_exclusions FOR EACH ROW EXECUTE FUNCTION verity_notify_exclusion_changed();

-- A paused site's nodes are reloaded without it.
CREATE FUNCTION verity_notify_site_nodes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('verity_node_changed', ns.node_id) FROM node_sites ns WHERE ns.site_id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER sites_paused_changed
  AFTER UPDATE OF paused ON sites FOR EACH ROW WHEN (OLD.paused IS DISTINCT FROM NEW.paused) EXECUTE FUNCTION verity_notify_site_nodes();
