// Concurrent misses for the same key make one origin request: the first caller (the leader)
// runs the work, the others wait for its result. Whether a waiter may USE that result (it may
// not be storable, or vary on a header the waiter sent differently) is the caller's decision.

export interface SingleFlight<T> {
  /** Runs fn for the key unless a run is in flight; `leader` says whether this call ran it. */
  run(key: string, fn: () => Promise<T>): Promise<{ value: T; leader: boolean }>;
  inFlight(): number;
}

export function createSingleFlight<T>(): SingleFlight<T> {
  const flights = new Map<string, Promise<T>>();
  return {
    async run(key, fn) {
      const existing = flights.get(key);
      if (existing) return { value: await existing, leader: false };
      const p = fn();
      flights.set(key, p);
      try {
        return { value: await p, leader: true };
      } finally {
        flights.delete(key);
      }
    },
    inFlight: () => flights.size,
  };
}
