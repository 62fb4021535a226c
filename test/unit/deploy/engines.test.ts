import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

// The README promises Node.js 20.19. Every package npm installs must say it runs there, or
// `npm install` warns (EBADENGINE) and a user on 20.19 gets code written for a newer Node.

interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
  dev?: boolean;
  optional?: boolean;
}

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string }; overrides?: Record<string, string> };
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockEntry> };
const oldest = semver.minVersion(pkg.engines.node)?.version ?? '';

describe('Node.js versions', () => {
  it('the README and package.json name the same oldest Node.js', () => {
    expect(oldest).toBe('20.19.0');
    expect(readFileSync('README.md', 'utf8')).toContain('Node.js 20.19 or newer');
  });

  it('every locked package runs on the oldest Node.js we support', () => {
    const refusing = Object.entries(lock.packages)
      .filter(([path]) => path !== '')
      .flatMap(([path, e]) => {
        const range = Array.isArray(e.engines) ? undefined : e.engines?.node;
        return range && !semver.satisfies(oldest, range, { includePrerelease: true }) ? [`${path.replace(/^.*node_modules\//, '')}@${e.version} wants node ${range}`] : [];
      });
    expect(refusing).toEqual([]);
  });
});
