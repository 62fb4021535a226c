-- Notifications (docs/notifications.md): events are written where they happen (these triggers,
-- or notifyEvent() in common/db/queries/notifications.ts); one balancer at a time fans each event
-- out into deliveries (webhooks, e-mail) and sends them, retrying with backoff.
CREATE TABLE webhooks (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  site_id     uuid REFERENCES sites (id) ON DELETE CASCADE,   -- NULL: every event
  url         text NOT NULL,
  secret      text NOT NULL,                                  -- HMAC key; shown once at creation
  format      text NOT NULL DEFAULT 'verity' CHECK (format IN ('verity', 'slack')),
  -- Made by a site owner: its address is checked to be public at every delivery.
  owner_made  boolean NOT NULL DEFAULT false,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz
);
CREATE INDEX webhooks_site_idx ON webhooks (site_id);

CREATE TABLE notification_events (
  id         bigserial PRIMARY KEY,
  kind       text NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  site_id    uuid REFERENCES sites (id) ON DELETE SET NULL,
  site_host  text,
  node_id    text,
  node_name  text,
  reason     text NOT NULL DEFAULT '',
  fanned_out boolean NOT NULL DEFAULT false
);
CREATE INDEX notification_events_pending_idx ON notification_events (id) WHERE NOT fanned_out;
CREATE INDEX notification_events_kind_idx ON notification_events (kind, site_id, at DESC);

CREATE TABLE notification_deliveries (
  id              bigserial PRIMARY KEY,
  event_id        bigint NOT NULL REFERENCES notification_events (id) ON DELETE CASCADE,
  channel         text NOT NULL CHECK (channel IN ('webhook', 'email')),
  webhook_id      uuid REFERENCES webhooks (id) ON DELETE CASCADE,
  address         text,
  -- For webhooks: the site the receiver is told about (its own site for a per-site webhook).
  site_host       text,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_until     timestamptz,
  last_status     integer,
  last_error      text,
  delivered_at    timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((channel = 'webhook') = (webhook_id IS NOT NULL)),
  CHECK ((channel = 'email') = (address IS NOT NULL))
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX notification_deliveries_webhook_idx ON notification_deliveries (webhook_id, id DESC);

CREATE TABLE notification_attempts (
  id          bigserial PRIMARY KEY,
  delivery_id bigint NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
  at          timestamptz NOT NULL,
  ok          boolean NOT NULL,
  status_code integer,
  error       text,
  duration_ms integer NOT NULL
);
CREATE INDEX notification_attempts_delivery_idx ON notification_attempts (delivery_id, at);

CREATE FUNCTION verity_emit_event(p_kind text, p_at timestamptz, p_site uuid, p_node text, p_reason text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO notification_events (kind, at, site_id, site_host, node_id, node_name, reason)
  VALUES (p_kind, p_at, p_site, (SELECT host FROM sites WHERE id = p_site), p_node, (SELECT name FROM nodes WHERE id = p_node), left(p_reason, 2000));
END $$;

-- A node's status changed: quarantined, banned, offline, or back from offline. Every writer of
-- trust events (auditor, balancer strikes, admin actions, the offline sweeper) goes through here.
CREATE FUNCTION verity_trust_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  prev text;
BEGIN
  SELECT status_after INTO prev FROM trust_events WHERE node_id = NEW.node_id AND id < NEW.id ORDER BY id DESC LIMIT 1;
  prev := COALESCE(prev, 'probation');
  IF NEW.status_after = prev THEN RETURN NULL; END IF;
  IF NEW.status_after = 'quarantined' THEN
    PERFORM verity_emit_event('node.quarantined', NEW.at, NULL, NEW.node_id, NEW.reason);
  ELSIF NEW.status_after = 'banned' THEN
    PERFORM verity_emit_event('node.banned', NEW.at, NULL, NEW.node_id, NEW.reason);
  ELSIF NEW.status_after = 'offline' THEN
    PERFORM verity_emit_event('node.offline', NEW.at, NULL, NEW.node_id, NEW.reason);
  ELSIF prev = 'offline' THEN
    PERFORM verity_emit_event('node.back', NEW.at, NULL, NEW.node_id, NEW.reason);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER trust_events_notify AFTER INSERT ON trust_events FOR EACH ROW EXECUTE FUNCTION verity_trust_event_notify();

CREATE FUNCTION verity_finding_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  a record;
BEGIN
  SELECT node_id, site_id, url INTO a FROM audits WHERE id = NEW.audit_id;
  PERFORM verity_emit_event('finding.critical', now(), a.site_id, a.node_id, NEW.summary || ' (' || NEW.kind || ' at ' || a.url || ')');
  RETURN NULL;
END $$;
CREATE TRIGGER findings_critical_notify AFTER INSERT ON findings FOR EACH ROW WHEN (NEW.severity = 'critical') EXECUTE FUNCTION verity_finding_notify();

-- An owner's quarantine of a node for their site.
CREATE FUNCTION verity_exclusion_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM verity_emit_event('node.quarantined', NEW.created_at, NEW.site_id, NEW.node_id, NEW.reason);
  RETURN NULL;
END $$;
CREATE TRIGGER site_node_exclusions_notify AFTER INSERT ON site_node_exclusions FOR EACH ROW EXECUTE FUNCTION verity_exclusion_notify();
