-- The publication model: what the origin published (balancer/publication), shared between
-- balancers; the owner's optional public globs and policy for dynamic pages; published manifests.
ALTER TABLE sites ADD COLUMN public_routes text[] NOT NULL DEFAULT '{}';
ALTER TABLE sites ADD COLUMN dynamic_policy text NOT NULL DEFAULT 'origin' CHECK (dynamic_policy IN ('origin', 'sampled'));

-- One row per (site, URL, variant): the origin's last answer and how sure we are it is stable.
CREATE TABLE published_urls (
  site_id        uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  url            text NOT NULL,
  variant        text NOT NULL,
  vary           text[] NOT NULL DEFAULT '{}',
  mode           text NOT NULL CHECK (mode IN ('pending', 'stable', 'dynamic')),
  source         text NOT NULL CHECK (source IN ('origin', 'manifest')),
  status         integer NOT NULL,
  headers        jsonb NOT NULL,
  encoding       text,
  sha256         text NOT NULL,
  size           bigint NOT NULL,
  pieces         bytea,
  etag           text,
  last_modified  text,
  lifetime_ms    bigint NOT NULL,
  initial_age_ms bigint NOT NULL,
  received_at    timestamptz NOT NULL,
  repeats        integer NOT NULL,
  history        text[] NOT NULL DEFAULT '{}',
  unstable_headers text[] NOT NULL DEFAULT '{}',
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site_id, url, variant)
);
CREATE INDEX published_urls_recent_idx ON published_urls (site_id, updated_at DESC);

-- `verity manifest`: digests a deploy publishes before the first visitor comes.
CREATE TABLE site_manifests (
  site_id      uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  path         text NOT NULL,
  sha256       text NOT NULL,
  size         bigint NOT NULL,
  pieces       bytea,
  content_type text,
  uploaded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site_id, path)
);

-- Things an admin should see about a site (a manifest the origin contradicts, …).
CREATE TABLE site_warnings (
  id       bigserial PRIMARY KEY,
  site_id  uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  at       timestamptz NOT NULL DEFAULT now(),
  kind     text NOT NULL,
  message  text NOT NULL,
  detail   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX site_warnings_site_idx ON site_warnings (site_id, at DESC);

-- Every balancer reloads a site's manifest when it changes.
CREATE FUNCTION notify_manifest_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('verity_manifest_changed', COALESCE(NEW.site_id, OLD.site_id)::text);
  RETURN NULL;
END $$;
CREATE TRIGGER site_manifests_notify AFTER INSERT OR UPDATE OR DELETE ON site_manifests
  FOR EACH ROW EXECUTE FUNCTION notify_manifest_changed();
