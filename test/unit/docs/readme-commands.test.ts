import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// "verity: command not found": `npm install` in a checkout puts no `verity` on the PATH, so
// every command the README has a person paste runs it through npx (or says how to link it).

const readme = readFileSync('README.md', 'utf8');

function shellLines(markdown: string): string[] {
  return [...markdown.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].flatMap((m) => (m[1] ?? '').split('\n'));
}

describe('README commands', () => {
  it('runs verity through npx in every shell block', () => {
    const calls = shellLines(readme).filter((l) => /(^|[\s;&|(])verity\s/.test(l));
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(calls.filter((l) => !/(^|[\s;&|(])npx verity\s/.test(l))).toEqual([]);
  });

  it('says how to get a plain `verity` command', () => {
    expect(readme).toContain('`npm link`');
  });
});
