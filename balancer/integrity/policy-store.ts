import { mergePolicy, type OriginPolicy } from '../proxy/response-headers.js';

// The origin's security headers and cookie names per site, learned from the origin's own
// responses (every origin-served response adds to it; a background fetch of the home page
// seeds the defaults at start).

export class PolicyStore {
  private policies = new Map<string, { policy: OriginPolicy; learnedAt: number }>();

  get(siteId: string): OriginPolicy | null {
    return this.policies.get(siteId)?.policy ?? null;
  }

  learnedAt(siteId: string): number | null {
    return this.policies.get(siteId)?.learnedAt ?? null;
  }

  /** `asDefault`: this response's headers become the ones applied to node responses (HTML pages). */
  learn(siteId: string, policy: OriginPolicy, now: number, asDefault = true): void {
    const known = this.policies.get(siteId)?.policy ?? null;
    this.policies.set(siteId, { policy: mergePolicy(known, policy, asDefault || known === null), learnedAt: now });
  }
}
