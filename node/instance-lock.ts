import { join } from 'node:path';
import { takePidLock } from '../common/pid-lock.js';

// One running node per identity: two processes sharing a key would fight over the heartbeat
// counter (each one's heartbeats looking like replays of the other's).

export const LOCK_FILE = 'node.pid';

/** Takes the data dir's lock for this process; returns the release function. */
export function lockDataDir(dataDir: string, pid = process.pid): Promise<() => Promise<void>> {
  return takePidLock(join(dataDir, LOCK_FILE), 'NODE_ERR_IDENTITY', (holder) => `another verity node (pid ${holder}) is running with the data dir ${dataDir}; give each node its own --data-dir`, pid);
}
