// Retries are capped to a share of recent requests (plus a small floor), so a wave of failures
// cannot multiply the load on the remaining nodes.

const WINDOW_MS = 10_000;

export class RetryBudget {
  private windowStart = 0;
  private requests = 0;
  private retries = 0;
  private prevRequests = 0;
  private prevRetries = 0;

  constructor(private readonly share: number, private readonly floor = 10) {}

  private roll(now: number): void {
    if (now - this.windowStart < WINDOW_MS) return;
    const skipped = now - this.windowStart >= 2 * WINDOW_MS;
    this.prevRequests = skipped ? 0 : this.requests;
    this.prevRetries = skipped ? 0 : this.retries;
    this.requests = 0;
    this.retries = 0;
    this.windowStart = now;
  }

  onRequest(now: number): void {
    this.roll(now);
    this.requests++;
  }

  /** Takes one retry from the budget if there is one left. */
  tryRetry(now: number): boolean {
    this.roll(now);
    const requests = this.requests + this.prevRequests;
    const retries = this.retries + this.prevRetries;
    if (retries >= this.floor + this.share * requests) return false;
    this.retries++;
    return true;
  }
}
