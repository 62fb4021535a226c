-- Balancers keep the routing table in memory and follow changes through LISTEN/NOTIFY.
-- recordTrustEvent notifies explicitly; these triggers cover every other writer (node
-- registration, site edits, admin tools), so no change can be missed. Identical notifications
-- within one transaction are delivered once, so the explicit and the trigger notify coincide.

CREATE FUNCTION verity_notify_node_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('verity_node_changed', OLD.id);
    RETURN OLD;
  END IF;
  PERFORM pg_notify('verity_node_changed', NEW.id);
  RETURN NEW;
END $$;

-- Only columns that matter for routing: heartbeats (last_seen_at, counters) stay silent.
CREATE TRIGGER nodes_routing_changed
  AFTER INSERT OR DELETE OR UPDATE OF status, draining, integrity, availability, public_url, declared_lat, declared_lon, subnet, name
  ON nodes FOR EACH ROW EXECUTE FUNCTION verity_notify_node_changed();

CREATE FUNCTION verity_notify_node_sites_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('verity_node_changed', OLD.node_id);
    RETURN OLD;
  END IF;
  PERFORM pg_notify('verity_node_changed', NEW.node_id);
  RETURN NEW;
END $$;

CREATE TRIGGER node_sites_routing_changed
  AFTER INSERT OR DELETE ON node_sites FOR EACH ROW EXECUTE FUNCTION verity_notify_node_sites_changed();

CREATE FUNCTION verity_notify_site_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('verity_site_changed', OLD.id::text);
    RETURN OLD;
  END IF;
  PERFORM pg_notify('verity_site_changed', NEW.id::text);
  RETURN NEW;
END $$;

CREATE TRIGGER sites_routing_changed
  AFTER INSERT OR DELETE OR UPDATE ON sites FOR EACH ROW EXECUTE FUNCTION verity_notify_site_changed();
