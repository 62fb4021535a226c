import { randomBytes } from 'node:crypto';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VerityError } from '../common/errors.js';

// The checklist a volunteer sees at start, one PASS/FAIL line per check, like a serious
// volunteer-computing client: what this node is, whether it can work, and why not.

export interface Checklist {
  pass(check: string, detail: string): void;
  fail(check: string, detail: string): void;
  info(text: string): void;
}

export function createChecklist(out: { write(chunk: string): unknown }): Checklist {
  const line = (mark: string, check: string, detail: string) => out.write(`[${mark}] ${check.padEnd(18)} ${detail}\n`);
  return {
    pass: (check, detail) => line('PASS', check, detail),
    fail: (check, detail) => line('FAIL', check, detail),
    info: (text) => out.write(`${text}\n`),
  };
}

/** Makes the cache dir and proves it is writable by writing and removing a probe file. */
export async function checkCacheDir(dir: string): Promise<void> {
  const probe = join(dir, `.probe-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(probe, 'ok');
    await unlink(probe);
  } catch (err) {
    throw new VerityError('NODE_ERR_CACHE_DIR', `the cache dir ${dir} is not writable: ${(err as Error).message}`, { cause: err });
  }
}
