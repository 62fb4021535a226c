-- HTTPS on the public port (docs/tls.md): each site's choice of redirect and HSTS, its
-- certificate (the owner's, or one issued by ACME), the ACME account and the challenges every
-- balancer must answer. Private keys are sealed with a key from configuration
-- (common/tls/secret-box.ts), never stored in the clear. Every balancer follows changes by NOTIFY.
ALTER TABLE sites ADD COLUMN https_redirect boolean NOT NULL DEFAULT false;
ALTER TABLE sites ADD COLUMN hsts_max_age_s integer CHECK (hsts_max_age_s IS NULL OR hsts_max_age_s >= 0);

CREATE TABLE site_certificates (
  site_id     uuid PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
  source      text NOT NULL CHECK (source IN ('owner', 'acme')),
  cert_pem    text NOT NULL,
  key_sealed  text NOT NULL,
  serial      text NOT NULL,
  not_before  timestamptz NOT NULL,
  not_after   timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One ACME account per directory.
CREATE TABLE acme_accounts (
  directory_url text PRIMARY KEY,
  email         text,
  key_sealed    text NOT NULL,
  account_url   text,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Issuance attempts per site, for retries with backoff.
CREATE TABLE acme_attempts (
  site_id         uuid PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
  failures        integer NOT NULL DEFAULT 0,
  retry_at        timestamptz,
  last_error      text,
  last_attempt_at timestamptz
);

-- Challenges in progress: whichever balancer the CA reaches answers them.
CREATE TABLE acme_challenges (
  token             text PRIMARY KEY,
  host              text NOT NULL,
  kind              text NOT NULL CHECK (kind IN ('http-01', 'tls-alpn-01')),
  key_authorization text NOT NULL,
  cert_pem          text,
  key_sealed        text,
  expires_at        timestamptz NOT NULL
);

CREATE FUNCTION verity_notify_certificate_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('verity_certificate_changed', OLD.site_id::text);
    RETURN OLD;
  END IF;
  PERFORM pg_notify('verity_certificate_changed', NEW.site_id::text);
  RETURN NEW;
END $$;

CREATE TRIGGER site_certificates_changed
  AFTER INSERT OR DELETE OR UPDATE ON site_certificates FOR EACH ROW EXECUTE FUNCTION verity_notify_certificate_changed();

CREATE FUNCTION verity_notify_acme_challenge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('verity_acme_challenge', OLD.token);
    RETURN OLD;
  END IF;
  PERFORM pg_notify('verity_acme_challenge', NEW.token);
  RETURN NEW;
END $$;

CREATE TRIGGER acme_challenges_changed
  AFTER INSERT OR DELETE OR UPDATE ON acme_challenges FOR EACH ROW EXECUTE FUNCTION verity_notify_acme_challenge();
