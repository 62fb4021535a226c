// Per site, probation nodes together get at most `share` of the site's node-routed requests,
// whatever their subnets: 25 new nodes in 25 subnets share one slice, as one node would. A
// group (the /24 or /48 of the registration address) may also be held to a smaller
// `groupShare`, so one subnet of newcomers cannot take the whole slice from the others.
// Per request: no I/O, no await.

const DECAY_AT = 10_000;

export class ProbationMeter {
  private total = new Map<string, number>();
  private probation = new Map<string, number>();
  private byGroup = new Map<string, Map<string, number>>();

  /** `groupShare` defaults to `share` (no tighter limit per group). */
  constructor(private readonly share: number, private readonly groupShare: number = share) {}

  /** Would one more request to a probation node of `group` keep the site within its caps? */
  allowed(siteId: string, group: string): boolean {
    const next = (this.total.get(siteId) ?? 0) + 1;
    if ((this.probation.get(siteId) ?? 0) + 1 > this.share * next + 1e-9) return false;
    return (this.byGroup.get(siteId)?.get(group) ?? 0) + 1 <= this.groupShare * next + 1e-9;
  }

  /** One node-eligible decision for the site; `group` set when a probation node got it. */
  record(siteId: string, group: string | null): void {
    const total = (this.total.get(siteId) ?? 0) + 1;
    this.total.set(siteId, total);
    if (group !== null) {
      this.probation.set(siteId, (this.probation.get(siteId) ?? 0) + 1);
      let groups = this.byGroup.get(siteId);
      if (!groups) this.byGroup.set(siteId, (groups = new Map()));
      groups.set(group, (groups.get(group) ?? 0) + 1);
    }
    if (total >= DECAY_AT) this.halve(siteId);
  }

  /** The share probation nodes got so far (metrics, tests). */
  probationShare(siteId: string): number {
    const total = this.total.get(siteId) ?? 0;
    return total === 0 ? 0 : (this.probation.get(siteId) ?? 0) / total;
  }

  private halve(siteId: string): void {
    this.total.set(siteId, (this.total.get(siteId) ?? 0) / 2);
    this.probation.set(siteId, (this.probation.get(siteId) ?? 0) / 2);
    const groups = this.byGroup.get(siteId);
    if (groups) for (const [g, v] of groups) groups.set(g, v / 2);
  }
}

export function probationGroup(node: { id: string; subnet: string | null }): string {
  return node.subnet ? `subnet:${node.subnet}` : `node:${node.id}`;
}
