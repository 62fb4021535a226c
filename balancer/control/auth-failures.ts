import type { ControlDeps } from './types.js';

// Guessing the admin token is slowed down per client address, whichever door is knocked on:
// the dashboard's login form or an `Authorization: Bearer` header on any admin API or page.
// Both count against one budget, so a guesser cannot double its rate by alternating.

export const MAX_AUTH_FAILURES = 10;
export const AUTH_FAILURE_WINDOW_MS = 5 * 60_000;
/** Bounds memory under a flood of addresses: past this the map starts over. */
const MAX_TRACKED_ADDRESSES = 10_000;

export interface AuthFailures {
  /** True while `ip` has used up its wrong guesses for the current window. */
  blocked(ip: string): boolean;
  /** Seconds until `ip` may try again (for Retry-After). */
  retryAfterSeconds(ip: string): number;
  fail(ip: string): void;
  clear(ip: string): void;
}

export function createAuthFailures(now: () => number): AuthFailures {
  const failures = new Map<string, { count: number; since: number }>();
  const current = (ip: string) => {
    const f = failures.get(ip);
    return f !== undefined && now() - f.since < AUTH_FAILURE_WINDOW_MS ? f : undefined;
  };
  return {
    blocked: (ip) => (current(ip)?.count ?? 0) >= MAX_AUTH_FAILURES,
    retryAfterSeconds: (ip) => {
      const f = current(ip);
      return f ? Math.max(1, Math.ceil((f.since + AUTH_FAILURE_WINDOW_MS - now()) / 1000)) : 0;
    },
    fail(ip) {
      const f = current(ip);
      if (f) {
        f.count++;
        return;
      }
      if (failures.size >= MAX_TRACKED_ADDRESSES) failures.clear();
      failures.set(ip, { count: 1, since: now() });
    },
    clear(ip) {
      failures.delete(ip);
    },
  };
}

// One budget per control plane: the admin API and the dashboard are handed the same deps.
const byControlPlane = new WeakMap<ControlDeps, AuthFailures>();

export function authFailuresOf(deps: ControlDeps): AuthFailures {
  let f = byControlPlane.get(deps);
  if (!f) byControlPlane.set(deps, (f = createAuthFailures(deps.now)));
  return f;
}
