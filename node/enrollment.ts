import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Which balancers already know this node, and which join tokens it has spent there, so a
// restart does not present a spent token again (nor spend another use of a multi-use one).

export const ENROLLMENT_FILE = 'enrollment.json';

export interface Enrollment {
  balancer: string;
  nodeId: string;
  enrolledAt: string;
  /** SHA-256 (hex) of the join tokens this node has spent at this balancer. */
  tokens: string[];
}

function normalise(url: string): string {
  return new URL(url).toString();
}

export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export async function readEnrollments(dataDir: string): Promise<Enrollment[]> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(dataDir, ENROLLMENT_FILE), 'utf8'));
    if (!Array.isArray(parsed)) return [];
    return (parsed as Partial<Enrollment>[])
      .filter((e) => typeof e?.balancer === 'string' && typeof e?.nodeId === 'string')
      .map((e) => ({ balancer: e.balancer ?? '', nodeId: e.nodeId ?? '', enrolledAt: e.enrolledAt ?? '', tokens: Array.isArray(e.tokens) ? e.tokens : [] }));
  } catch {
    return [];
  }
}

export async function findEnrollment(dataDir: string, balancer: string, nodeId: string): Promise<Enrollment | null> {
  const all = await readEnrollments(dataDir);
  return all.find((e) => e.balancer === normalise(balancer) && e.nodeId === nodeId) ?? null;
}

export async function recordEnrollment(dataDir: string, balancer: string, nodeId: string, now: Date, spentToken?: string): Promise<void> {
  const all = await readEnrollments(dataDir);
  const previous = all.find((e) => e.balancer === normalise(balancer) && e.nodeId === nodeId);
  const tokens = new Set(previous?.tokens ?? []);
  if (spentToken) tokens.add(tokenFingerprint(spentToken));
  const next: Enrollment = { balancer: normalise(balancer), nodeId, enrolledAt: previous?.enrolledAt ?? now.toISOString(), tokens: [...tokens] };
  const rest = all.filter((e) => e !== previous);
  const path = join(dataDir, ENROLLMENT_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify([...rest, next], null, 2)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}
