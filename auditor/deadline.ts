import { VerityError, type ErrorCode } from '../common/errors.js';

/** Races `p` against a timer; the timer is always cleared. The loser keeps running: callers kill it. */
export async function withDeadline<T>(p: Promise<T>, ms: number, code: ErrorCode, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new VerityError(code, `${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}
