import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// A lint of the Dockerfile for what went wrong before: there is no docker engine here to build
// it, so its instructions are read and checked one by one.

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

const steps = parse(readFileSync('Dockerfile', 'utf8'));

describe('Dockerfile', () => {
  it('never chowns the application (that copies every file into another layer, ~370 MB)', () => {
    for (const s of steps.filter((x) => x.op === 'RUN')) expect(s.args, s.args).not.toMatch(/\bchown\b/);
    for (const s of steps.filter((x) => x.op === 'COPY')) expect(s.args).not.toMatch(/--chown/);
  });

  it('runs as a non-root user that owns the folders it writes to, made before any volume mounts there', () => {
    const users = steps.filter((s) => s.op === 'USER');
    expect(users.at(-1)?.args).toBe('verity');
    const made = steps.find((s) => s.op === 'RUN' && /install -d -o verity -g verity/.test(s.args));
    expect(made?.args).toMatch(/useradd .*--uid 10001 verity/);
    for (const dir of ['/home/verity/node', '/bootstrap']) expect(made?.args).toContain(dir);
    // Created as root, before the switch to the user.
    expect(steps.indexOf(made as Instruction)).toBeLessThan(steps.indexOf(users.at(-1) as Instruction));
  });

  it('installs dependencies from the lock file before copying the sources (a cached layer)', () => {
    const ci = steps.findIndex((s) => s.op === 'RUN' && /npm ci\b/.test(s.args));
    const copyAll = steps.findIndex((s) => s.op === 'COPY' && /^\.\s+\.$/.test(s.args));
    expect(ci).toBeGreaterThan(-1);
    expect(ci).toBeLessThan(copyAll);
    expect(steps[ci - 1]?.args).toContain('package-lock.json');
  });

  it('keeps .env (where compose reads secrets from) out of the image', () => {
    expect(readFileSync('.dockerignore', 'utf8').split('\n')).toContain('.env');
  });
});
