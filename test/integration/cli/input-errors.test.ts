import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli, stackLines } from '../../support/cli.js';

// The real `verity` executable, given what a new user types in the first hour: every mistake
// gets one line a person can act on, exit code 2, no stack trace, and nothing done.

const home = mkdtempSync(join(tmpdir(), 'verity-cli-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function oneClearLine(r: { code: number; stdout: string; stderr: string }, code = 2): string {
  expect(r.code, r.stderr).toBe(code);
  expect(stackLines(r.stderr)).toEqual([]);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0] ?? '';
}

describe('the verity command of a fresh checkout', () => {
  it('runs as `npx verity`, the way the README writes every command', async () => {
    const checkout = fileURLToPath(new URL('../../..', import.meta.url));
    const r = spawnSync('npx', ['--no-install', 'verity', 'site', '--help'], { cwd: join(checkout, 'docs'), encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('verity site add --host HOST --origin URL');
  });
});

describe('verity subcommand groups', () => {
  it('lists the subcommands of site, token and node on --help', async () => {
    const site = await spawnCli(['site', '--help']);
    expect(site.code).toBe(0);
    expect(site.stdout).toContain('verity site add --host HOST --origin URL');
    expect(site.stdout).toContain('verity site list');
    const token = await spawnCli(['token', '--help']);
    expect(token.code).toBe(0);
    expect(token.stdout).toContain('verity token create --site HOST');
    const node = await spawnCli(['node', '--help']);
    expect(node.code).toBe(0);
    expect(node.stdout).toContain('--balancer URL');
    for (const action of ['quarantine', 'reinstate', 'ban']) expect(node.stdout).toContain(`verity node ${action} ID --reason TEXT`);
  });

  it('says which subcommand is missing or unknown, in one line', async () => {
    expect(oneClearLine(await spawnCli(['site']))).toBe('verity site needs a subcommand (add, list; see verity site --help)');
    expect(oneClearLine(await spawnCli(['token', 'make']))).toBe('verity token: unknown subcommand "make" (create; see verity token --help)');
  });

  it('does not take `verity node frobnicate ID` as "run a node"', async () => {
    const r = await spawnCli(['node', 'frobnicate', '0123abcd'], { HOME: home });
    expect(oneClearLine(r)).toMatch(/^verity node: unknown subcommand "frobnicate" \(quarantine, reinstate, ban take ID --reason TEXT/);
    expect(r.stdout).toBe('');
    expect(existsSync(join(home, '.verity-node'))).toBe(false);
  });
});

describe('input that used to be accepted and silently wrong', () => {
  it('refuses a token lifetime without a unit', async () => {
    const line = oneClearLine(await spawnCli(['token', 'create', '--site', 'a.example', '--ttl', '7']));
    expect(line).toBe('verity token create: --ttl: "7" has no unit: write 7s, 7m, 7h or 7d (see verity token create --help)');
  });

  it('refuses bare numbers for every other duration too', async () => {
    expect(oneClearLine(await spawnCli(['auditor', '--audit-every', '300']))).toContain('--audit-every: "300" has no unit');
    expect(oneClearLine(await spawnCli(['node', '--balancer', 'http://127.0.0.1:1', '--drain-timeout', '30']))).toContain('--drain-timeout: "30" has no unit');
    expect(oneClearLine(await spawnCli(['balancer', '--deadline', '30'], { VERITY_DEADLINE: undefined }))).toContain('--deadline: "30" has no unit');
  });

  it('refuses a private route that is not a URL path, so it cannot silently fail to match', async () => {
    const line = oneClearLine(await spawnCli(['site', 'add', '--host', 'shop.example', '--origin', 'http://127.0.0.1:9', '--private', '/account/**,login']));
    expect(line).toContain('--private: "login" does not start with "/": private routes are URL paths, write "/login"');
  });

  it('requires a reason for node actions', async () => {
    for (const action of ['quarantine', 'reinstate', 'ban']) {
      expect(oneClearLine(await spawnCli(['node', action, '0123abcd']))).toBe(`verity node ${action}: --reason TEXT is missing (see verity node ${action} --help)`);
    }
    expect(oneClearLine(await spawnCli(['node', 'ban', '0123abcd', '--reason', '  ']))).toContain('--reason: must say why');
  });
});

describe('secrets copied from an example', () => {
  it('refuses a placeholder admin token or audit secret instead of starting with it', async () => {
    const balancer = oneClearLine(await spawnCli(['balancer'], { VERITY_ADMIN_TOKEN: 'change-me-admin-token-0123456789' }));
    expect(balancer).toContain('--admin-token (from env VERITY_ADMIN_TOKEN): is a placeholder from an example, known to anyone who read it: generate one');
    const auditor = oneClearLine(await spawnCli(['auditor'], { VERITY_AUDIT_SECRET: 'change-me-audit-secret-0123456789' }));
    expect(auditor).toContain('--audit-secret (from env VERITY_AUDIT_SECRET): is a placeholder');
    const token = oneClearLine(await spawnCli(['token', 'create', '--site', 'a.example'], { VERITY_BOOTSTRAP_TOKEN: 'vjt_compose-bootstrap-token-change-me' }));
    expect(token).toContain('--value (from env VERITY_BOOTSTRAP_TOKEN): is a placeholder');
  });
});

describe('error messages a person can act on', () => {
  it('gives a missing flag its own message instead of validator output', async () => {
    const token = oneClearLine(await spawnCli(['token', 'create']));
    expect(token).toBe('verity token create: --site HOST is missing (see verity token create --help)');
    const node = oneClearLine(await spawnCli(['node'], { HOME: home, VERITY_BALANCER: undefined }));
    expect(node).toBe('verity node: --balancer URL is missing (see verity node --help)');
    expect(`${token}\n${node}`).not.toMatch(/Invalid input|expected string|received undefined|must be an http/);
  });

  it('names where a bad value came from when it was not the flag', async () => {
    const r = await spawnCli(['node'], { HOME: home, VERITY_BALANCER: 'ftp://x' });
    expect(oneClearLine(r)).toContain('--balancer (from env VERITY_BALANCER): must be an http:// or https:// URL');
  });
});
