import type { NodeStatus } from '../../common/domain/trust.js';
import type { GeoPoint } from '../geo/resolver.js';
import type { DynamicPolicy } from '../../common/db/queries/sites.js';
import type { PathMatcher } from '../routes/classify.js';

/** A node as the routing table holds it. Trust fields are updated in place on NOTIFY. */
export interface RouteNode {
  id: string;
  name: string;
  publicUrl: URL;
  /** Where it is routed: the checked location (the claim, or GeoIP when the claim failed). */
  location: GeoPoint | null;
  status: NodeStatus;
  draining: boolean;
  integrity: number;
  availability: number;
  /** /24 (or /48) of the registration address: probation nodes of one subnet share one cap. */
  subnet: string | null;
  siteIds: string[];
  /** SPKI fingerprint of the node's TLS certificate (base64url SHA-256): the only key accepted on its https URL. */
  tlsSpki: string | null;
}

export interface RouteSite {
  id: string;
  host: string;
  origin: URL;
  privateRoutes: string[];
  /** The owner's private globs (always the origin), and optional public ones (nothing else may be node-served). */
  isPrivate: PathMatcher | null;
  isPublic: PathMatcher | null;
  dynamicPolicy: DynamicPolicy;
  integrityManifestUrl: string | null;
  /** Plain-HTTP visitors are sent to HTTPS (balancer/edge/site-policy.ts). */
  httpsRedirect: boolean;
  /** Strict-Transport-Security max-age in seconds on HTTPS answers; null: none. */
  hstsMaxAgeS: number | null;
}
