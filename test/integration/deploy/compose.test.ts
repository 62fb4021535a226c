import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { programs } from '../../../bin/programs.js';
import { loadConfig } from '../../../common/config/options.js';

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
      if (!spec) throw new Error(`${name}: verity ${svc.command[0]} is not a command`);
      const flags = new Set(Object.values(spec.spec.options).map((o) => `--${o.flag}`));
      for (const arg of svc.command.filter((a) => a.startsWith('--'))) expect(flags.has(arg), `${name}: ${arg}`).toBe(true);
      // Every value too (a bare number where a duration goes, a bad address…), as the CLI reads them.
      const argv = svc.command.slice(spec.command.split(' ').length);
      expect(() => loadConfig(spec.spec, { argv, env: {} }), name).not.toThrow();
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

  it('ships no secret: no literal or default token, secret or password anywhere', () => {
    const text = readFileSync('docker-compose.yml', 'utf8');
    expect(text).not.toMatch(/\$\{[A-Z_]*(TOKEN|SECRET|PASSWORD)[A-Z_]*:-/);
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(svc.environment ?? {})) {
        if (/TOKEN|SECRET|PASSWORD/.test(key)) expect(value, `${name}: ${key}`).toMatch(/^\$\{[A-Z_]+:\?.+\}$/);
        if (key === 'DATABASE_URL') expect(value, `${name}: ${key}`).toMatch(/^postgres:\/\/verity:\$\{VERITY_DB_PASSWORD:\?/);
      }
    }
  });

  it('mounts the nodes\' data where the image makes a folder the non-root user owns', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const made = /install -d -o verity -g verity ([^\n]+)/.exec(dockerfile)?.[1]?.split(/\s+/) ?? [];
    const mounts = Object.values(compose.services).flatMap((svc) => ((svc as { volumes?: string[] }).volumes ?? []))
      .map((v) => v.split(':')[1] ?? '').filter((target) => target !== '/var/lib/postgresql/data');
    expect(mounts.length).toBeGreaterThanOrEqual(4);
    for (const target of mounts) expect(made, target).toContain(target);
  });

  const composeInstalled = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
  it.runIf(composeInstalled)('is valid for docker-compose config -q once the database password and TLS secret are given, and refused without either', () => {
    const env = { ...process.env, VERITY_DB_PASSWORD: 'test-password-0123456789', VERITY_TLS_SECRET: 'test-tls-secret-0123456789abcdef0123456789' };
    expect(() => execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { stdio: 'pipe', env })).not.toThrow();
    const without = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { encoding: 'utf8', env: { ...env, VERITY_DB_PASSWORD: undefined } });
    expect(without.status).not.toBe(0);
    expect(without.stderr).toContain('set VERITY_DB_PASSWORD in .env');
    const noTls = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { encoding: 'utf8', env: { ...env, VERITY_TLS_SECRET: undefined } });
    expect(noTls.status).not.toBe(0);
    expect(noTls.stderr).toContain('set VERITY_TLS_SECRET in .env');
  });
});
