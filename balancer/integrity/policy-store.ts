import type { OriginPolicy } from '../proxy/response-headers.js';

// The origin's security headers per site, learned from the origin's own HTML responses (every
// origin-served page refreshes it; a background fetch seeds it at start).

export class PolicyStore {
  private policies = new Map<string, { policy: OriginPolicy; learnedAt: number }>();

  get(siteId: string): OriginPolicy | null {
    return this.policies.get(siteId)?.policy ?? null;
  }

  learnedAt(siteId: string): number | null {
    return this.policies.get(siteId)?.learnedAt ?? null;
  }

  learn(siteId: string, policy: OriginPolicy, now: number): void {
    this.policies.set(siteId, { policy, learnedAt: now });
  }
}
