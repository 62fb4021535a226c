import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// A lint of the Dockerfile for what went wrong before: there is no docker engine here to build
// it, so its instructions are read and checked one by one, for each of its two images.

interface Instruction {
  op: string;
  args: string;
}

/** Instructions with their continuation lines joined; comments dropped. */
function parse(text: string): Instruction[] {
  const logical = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return logical.map((l) => {
    const [op = '', ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });
}

/** Stage name → its instructions (FROM … AS name starts one). */
function stages(all: Instruction[]): Map<string, Instruction[]> {
  const out = new Map<string, Instruction[]>();
  let current: Instruction[] = [];
  for (const s of all) {
    if (s.op === 'FROM') out.set(/\bAS\s+(\S+)/i.exec(s.args)?.[1] ?? '', (current = []));
    current.push(s);
  }
  return out;
}

const all = parse(readFileSync('Dockerfile', 'utf8'));
const byStage = stages(all);
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { version: string }> };
const nodeDeps = (JSON.parse(readFileSync('deploy/node/package.json', 'utf8')) as { dependencies: Record<string, string> }).dependencies;

describe('Dockerfile', () => {
  it('builds two images: the slim node and the full one (the default, last)', () => {
    expect([...byStage.keys()]).toEqual(['node', 'full']);
    expect(byStage.get('node')?.[0]?.args).toMatch(/^node:20-alpine\b/);
    expect(byStage.get('full')?.[0]?.args).toMatch(/^node:20-bookworm-slim\b/);
  });

  for (const [name, steps] of byStage) {
    describe(`the ${name} image`, () => {
      it('never chowns the application (that copies every file into another layer, ~370 MB)', () => {
        for (const s of steps.filter((x) => x.op === 'RUN')) expect(s.args, s.args).not.toMatch(/\bchown\b/);
        for (const s of steps.filter((x) => x.op === 'COPY')) expect(s.args).not.toMatch(/--chown/);
      });

      it('runs as a non-root user that owns the folders it writes to, made before any volume mounts there', () => {
        const users = steps.filter((s) => s.op === 'USER');
        expect(users.at(-1)?.args).toBe('verity');
        const made = steps.find((s) => s.op === 'RUN' && /install -d -o verity -g verity/.test(s.args));
        expect(made?.args).toMatch(/(useradd .*--uid 10001|adduser -D -u 10001) verity/);
        for (const dir of ['/home/verity/node', '/bootstrap']) expect(made?.args).toContain(dir);
        expect(steps.indexOf(made as Instruction)).toBeLessThan(steps.indexOf(users.at(-1) as Instruction));
      });

      it('installs dependencies from a lock file before copying the sources (a cached layer)', () => {
        const ci = steps.findIndex((s) => s.op === 'RUN' && /npm ci\b/.test(s.args));
        const firstSource = steps.findIndex((s, i) => i > ci && s.op === 'COPY');
        expect(ci).toBeGreaterThan(-1);
        expect(firstSource).toBeGreaterThan(ci);
        expect(steps[ci - 1]?.args).toContain('package-lock.json');
      });
    });
  }

  it('keeps Chromium, dashboards, the other programs and database code out of the node image', () => {
    const node = byStage.get('node') ?? [];
    const copied = node.filter((s) => s.op === 'COPY').map((s) => s.args).join(' ');
    expect(node.some((s) => s.op === 'RUN' && /chromium/.test(s.args))).toBe(false);
    for (const forbidden of ['dashboards', 'auditor', 'balancer', 'common/db', 'test', '. .']) expect(copied).not.toContain(forbidden);
    // @peculiar/x509: the node makes its own self-signed TLS certificate (the balancer pins its key).
    expect(Object.keys(nodeDeps).sort()).toEqual(['@peculiar/x509', 'pino', 'pino-pretty', 'tsx', 'yaml', 'zod']);
  });

  it("pins the node image's dependencies to the versions of the root lock file", () => {
    for (const [name, version] of Object.entries(nodeDeps)) expect(version, name).toBe(lock.packages[`node_modules/${name}`]?.version);
  });

  it('keeps .env (where compose reads secrets from) out of the image', () => {
    expect(readFileSync('.dockerignore', 'utf8').split('\n')).toContain('.env');
  });
});
