-- TLS between balancers and nodes (docs/node-protocol.md): the SPKI fingerprint (SHA-256,
-- base64url) of the node's own TLS certificate, registered and rotated in requests the node
-- signs with its Ed25519 key. A balancer connects to the node over TLS and accepts that key only.
ALTER TABLE nodes ADD COLUMN tls_spki_sha256 text;

-- Balancers reload a node whose pinned key changed.
DROP TRIGGER nodes_routing_changed ON nodes;
CREATE TRIGGER nodes_routing_changed
  AFTER INSERT OR DELETE OR UPDATE OF status, draining, integrity, availability, public_url, declared_lat, declared_lon,
    effective_lat, effective_lon, subnet, name, tls_spki_sha256
  ON nodes FOR EACH ROW EXECUTE FUNCTION verity_notify_node_changed();
