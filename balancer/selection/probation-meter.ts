// Probation nodes get at most `share` of a site's node-routed requests, and all probation nodes
// of one subnet count as one (a Sybil farm on one /24 gets one node's share, not N).

const DECAY_AT = 10_000;

export class ProbationMeter {
  private total = new Map<string, number>();
  private byGroup = new Map<string, Map<string, number>>();

  constructor(private readonly share: number) {}

  allowed(siteId: string, group: string): boolean {
    const total = this.total.get(siteId) ?? 0;
    const used = this.byGroup.get(siteId)?.get(group) ?? 0;
    return used + 1 <= this.share * (total + 1) + 1;
  }

  /** One node-eligible decision for the site; `group` set when a probation node got it. */
  record(siteId: string, group: string | null): void {
    const total = (this.total.get(siteId) ?? 0) + 1;
    this.total.set(siteId, total);
    if (group !== null) {
      let groups = this.byGroup.get(siteId);
      if (!groups) this.byGroup.set(siteId, (groups = new Map()));
      groups.set(group, (groups.get(group) ?? 0) + 1);
    }
    if (total >= DECAY_AT) this.halve(siteId);
  }

  private halve(siteId: string): void {
    this.total.set(siteId, (this.total.get(siteId) ?? 0) / 2);
    const groups = this.byGroup.get(siteId);
    if (groups) for (const [g, v] of groups) groups.set(g, v / 2);
  }
}

export function probationGroup(node: { id: string; subnet: string | null }): string {
  return node.subnet ? `subnet:${node.subnet}` : `node:${node.id}`;
}
