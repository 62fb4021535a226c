// Passive health: a node failing `threshold` times in a row is ejected for a while, longer each
// time; never more than `maxShare` of the known nodes at once (a bad day at the origin must not
// eject everyone). Active health probes bring nodes back early.

export interface OutlierOptions {
  threshold: number;
  baseMs: number;
  maxMs: number;
  maxShare: number;
}

export const defaultOutlierOptions: OutlierOptions = { threshold: 3, baseMs: 10_000, maxMs: 300_000, maxShare: 0.5 };

export class OutlierDetector {
  private consecutive = new Map<string, number>();
  private ejectedUntil = new Map<string, number>();
  private ejections = new Map<string, number>();

  constructor(private readonly opts: OutlierOptions = defaultOutlierOptions) {}

  isEjected(id: string, now: number): boolean {
    const until = this.ejectedUntil.get(id);
    if (until === undefined) return false;
    if (until > now) return true;
    this.ejectedUntil.delete(id);
    return false;
  }

  onSuccess(id: string): void {
    this.consecutive.delete(id);
  }

  /** Returns true when this failure ejected the node. */
  onFailure(id: string, now: number, knownNodes: number): boolean {
    const count = (this.consecutive.get(id) ?? 0) + 1;
    this.consecutive.set(id, count);
    if (count < this.opts.threshold || this.isEjected(id, now)) return false;
    if (this.ejectedCount(now) + 1 > Math.max(1, Math.floor(knownNodes * this.opts.maxShare))) return false;
    const n = (this.ejections.get(id) ?? 0) + 1;
    this.ejections.set(id, n);
    this.ejectedUntil.set(id, now + Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** (n - 1)));
    this.consecutive.delete(id);
    return true;
  }

  /** An active probe succeeded: the node is back, but its next ejection still lasts longer. */
  reinstate(id: string): void {
    this.ejectedUntil.delete(id);
    this.consecutive.delete(id);
  }

  ejectedCount(now: number): number {
    let count = 0;
    for (const until of this.ejectedUntil.values()) if (until > now) count++;
    return count;
  }
}
