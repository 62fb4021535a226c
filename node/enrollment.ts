import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Which balancers already know this node, so a restart does not present the (spent) join token.

export const ENROLLMENT_FILE = 'enrollment.json';

export interface Enrollment {
  balancer: string;
  nodeId: string;
  enrolledAt: string;
}

function normalise(url: string): string {
  return new URL(url).toString();
}

export async function readEnrollments(dataDir: string): Promise<Enrollment[]> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(dataDir, ENROLLMENT_FILE), 'utf8'));
    return Array.isArray(parsed) ? (parsed as Enrollment[]).filter((e) => typeof e?.balancer === 'string' && typeof e?.nodeId === 'string') : [];
  } catch {
    return [];
  }
}

export async function isEnrolled(dataDir: string, balancer: string, nodeId: string): Promise<boolean> {
  const all = await readEnrollments(dataDir);
  return all.some((e) => e.balancer === normalise(balancer) && e.nodeId === nodeId);
}

export async function recordEnrollment(dataDir: string, balancer: string, nodeId: string, now: Date): Promise<void> {
  const all = (await readEnrollments(dataDir)).filter((e) => !(e.balancer === normalise(balancer) && e.nodeId === nodeId));
  all.push({ balancer: normalise(balancer), nodeId, enrolledAt: now.toISOString() });
  const path = join(dataDir, ENROLLMENT_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}
