import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VerityError } from '../common/errors.js';

// One running node per identity: two processes sharing a key would fight over the heartbeat
// counter (each one's heartbeats looking like replays of the other's).

export const LOCK_FILE = 'node.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the data dir's lock for this process; returns the release function. */
export async function lockDataDir(dataDir: string, pid = process.pid): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${pid}\n`, { flag: 'wx', mode: 0o600 });
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new VerityError('NODE_ERR_IDENTITY', `cannot write ${path}: ${(err as Error).message}`, { cause: err });
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== pid && alive(holder)) {
      throw new VerityError('NODE_ERR_IDENTITY', `another verity node (pid ${holder}) is running with the data dir ${dataDir}; give each node its own --data-dir`);
    }
    // A stale lock from a node that died without cleaning up.
    await unlink(path).catch(() => undefined);
  }
  throw new VerityError('NODE_ERR_IDENTITY', `cannot take the lock ${path}`);
}
