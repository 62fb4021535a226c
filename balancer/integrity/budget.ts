// One budget for every body byte the balancer holds at once (node responses being verified,
// pieces of large downloads). Past it, new requests go to the origin rather than pile up memory.

export class ByteBudget {
  held = 0;

  constructor(readonly max: number) {}

  /** Per request: no I/O. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.max) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}
