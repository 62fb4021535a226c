// Audit-pin nonces seen by this balancer; each is forgotten once its pin has expired, so the
// cache stays as small as the number of pins alive at once.

export class NonceCache {
  private seen = new Map<string, number>();
  private lastSweep = 0;

  constructor(private readonly now: () => number) {}

  has(nonce: string): boolean {
    this.sweep();
    return this.seen.has(nonce);
  }

  add(nonce: string, expiresAtMs: number): void {
    this.seen.set(nonce, expiresAtMs);
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < 1_000) return;
    this.lastSweep = now;
    for (const [nonce, exp] of this.seen) if (exp < now) this.seen.delete(nonce);
  }
}
