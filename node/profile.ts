import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// What the volunteer said about the node (--name, --location), kept in the data directory: a
// restart without those flags keeps the node's name and location instead of renaming it to
// the host name and clearing where it is.

export const PROFILE_FILE = 'profile.json';

export interface NodeProfile {
  name?: string | undefined;
  location?: { lat: number; lon: number } | undefined;
}

function validLocation(v: unknown): { lat: number; lon: number } | undefined {
  const l = v as { lat?: unknown; lon?: unknown } | null;
  if (typeof l?.lat !== 'number' || typeof l.lon !== 'number') return undefined;
  return Math.abs(l.lat) <= 90 && Math.abs(l.lon) <= 180 ? { lat: l.lat, lon: l.lon } : undefined;
}

export async function readProfile(dataDir: string): Promise<NodeProfile> {
  try {
    const parsed = JSON.parse(await readFile(join(dataDir, PROFILE_FILE), 'utf8')) as { name?: unknown; location?: unknown };
    const name = typeof parsed.name === 'string' && parsed.name.length > 0 && parsed.name.length <= 64 ? parsed.name : undefined;
    return { name, location: validLocation(parsed.location) };
  } catch {
    return {};
  }
}

/**
 * The name and location this start uses: the ones given now (then remembered), else the ones
 * remembered from an earlier start.
 */
export async function resolveProfile(dataDir: string, given: NodeProfile): Promise<NodeProfile> {
  const saved = await readProfile(dataDir);
  const profile: NodeProfile = { name: given.name ?? saved.name, location: given.location ?? saved.location };
  if (profile.name !== saved.name || JSON.stringify(profile.location) !== JSON.stringify(saved.location)) {
    const path = join(dataDir, PROFILE_FILE);
    await writeFile(`${path}.tmp`, `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }
  return profile;
}
