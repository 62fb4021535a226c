import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { programs } from '../../../bin/programs.js';

interface Service {
  command?: string[] | string;
  environment?: Record<string, string>;
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Service> };
const knownEnv = new Set([
  ...programs.flatMap((p) => Object.values(p.spec.options).map((o) => o.env).filter((e): e is string => Boolean(e))),
  'VERITY_CONFIG', 'PUPPETEER_EXECUTABLE_PATH', 'VERITY_HEALTH_URL',
]);

function specFor(argv: string[]) {
  const two = argv.slice(0, 2).join(' ');
  return programs.find((p) => p.command === two) ?? programs.find((p) => p.command === argv[0]);
}

describe('docker-compose.yml', () => {
  it('uses only commands and flags the CLI has', () => {
    const checked: string[] = [];
    for (const [name, svc] of Object.entries(compose.services)) {
      if (!Array.isArray(svc.command) || name === 'setup' || name === 'postgres') continue;
      const spec = specFor(svc.command);
      expect(spec, `${name}: verity ${svc.command[0]} is not a command`).toBeDefined();
      const flags = new Set(Object.values(spec?.spec.options ?? {}).map((o) => `--${o.flag}`));
      for (const arg of svc.command.filter((a) => a.startsWith('--'))) expect(flags.has(arg), `${name}: ${arg}`).toBe(true);
      checked.push(name);
    }
    expect(checked.length).toBeGreaterThanOrEqual(6);
  });

  it('uses only environment variables Verity reads', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      if (name === 'postgres') continue;
      for (const key of Object.keys(svc.environment ?? {})) {
        if (key === 'VERITY_BOOTSTRAP_TOKEN' || key.startsWith('VERITY_') || key === 'DATABASE_URL') expect(knownEnv.has(key), `${name}: ${key}`).toBe(true);
      }
    }
  });

  it('runs every setup command the CLI has', () => {
    const setup = compose.services.setup?.command;
    const text = Array.isArray(setup) ? setup.join(' ') : String(setup);
    for (const m of text.matchAll(/bin\/verity ([a-z]+(?: [a-z]+)?)((?: --[a-z-]+)*)/g)) {
      expect(specFor((m[1] ?? '').split(' ')), m[1]).toBeDefined();
    }
  });

  it.runIf(spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0)('is valid for docker-compose config -q', () => {
    expect(() => execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { stdio: 'pipe' })).not.toThrow();
  });
});
