import { distanceKm, formatPoint, type GeoPoint } from './geo.js';

// What makes a node the node that earned its trust: where it is reached (public URL), where it
// comes from (address, subnet) and where it says it is. A node that changes any of these after
// reaching `active` could have pointed at an honest relay until trusted and then switched, so a
// change puts it back on probation (common/domain/trust.ts `identity_changed`). Pure.

export interface NodeIdentityView {
  publicUrl: string;
  address: string | null;
  subnet: string | null;
  location: GeoPoint | null;
}

/** Moving the declared location by more than this counts as a new identity. */
export const RELOCATION_KM = 300;

/** The URL as a connection sees it: scheme, host and port (default ports made explicit); path and case ignored. */
export function urlIdentity(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    return `${u.protocol}//${u.hostname.toLowerCase()}:${port}`;
  } catch {
    return url;
  }
}

/** Human-readable changes between two registrations; empty when it is the same node in the same place. */
export function identityChanges(before: NodeIdentityView, after: NodeIdentityView, relocationKm = RELOCATION_KM): string[] {
  const changes: string[] = [];
  if (urlIdentity(before.publicUrl) !== urlIdentity(after.publicUrl)) changes.push(`public URL ${before.publicUrl} → ${after.publicUrl}`);
  if (before.subnet !== after.subnet) changes.push(`subnet ${before.subnet ?? 'unknown'} → ${after.subnet ?? 'unknown'}`);
  else if (before.address !== after.address) changes.push(`address ${before.address ?? 'unknown'} → ${after.address ?? 'unknown'}`);
  const a = before.location;
  const b = after.location;
  if ((a === null) !== (b === null)) changes.push(`declared location ${a ? formatPoint(a) : 'none'} → ${b ? formatPoint(b) : 'none'}`);
  else if (a && b) {
    const d = distanceKm(a, b);
    if (d > relocationKm) changes.push(`declared location moved ${Math.round(d)} km (${formatPoint(a)} → ${formatPoint(b)})`);
  }
  return changes;
}
