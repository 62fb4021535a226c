import { readFile, unlink, writeFile } from 'node:fs/promises';
import { VerityError, type ErrorCode } from './errors.js';

// One process at a time for a directory that holds state only one may use (a node's identity,
// the demo's data): a file holding the owner's pid, taken over when that process is gone.

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock at `path` for this process and returns its release; when a live process holds
 * it, throws `code` with the message `held(pid)`.
 */
export async function takePidLock(path: string, code: ErrorCode, held: (pid: number) => string, pid = process.pid): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${pid}\n`, { flag: 'wx', mode: 0o600 });
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new VerityError(code, `cannot write ${path}: ${(err as Error).message}`, { cause: err });
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== pid && alive(holder)) throw new VerityError(code, held(holder));
    // A stale lock from a process that died without cleaning up.
    await unlink(path).catch(() => undefined);
  }
  throw new VerityError(code, `cannot take the lock ${path}`);
}
