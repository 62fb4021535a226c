import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The tree stands on its own: a merge left half-resolved never lands, and nothing cites design
// notes that live outside the repository (code and docs cite docs/… and each other only).

const files = (): string[] => execFileSync('git', ['ls-files', '*.ts', '*.md', '*.json', '*.sql', '*.yml', '*.css', '*.js', '*.sh', '.ci/*'], { encoding: 'utf8' }).split('\n').filter(Boolean);

describe('the tree', () => {
  it('has no merge conflict markers', () => {
    const marked = files().filter((f) => /^(<{7} |>{7} |={7}$)/m.test(readFileSync(f, 'utf8')));
    expect(marked).toEqual([]);
  });

  it('cites no document outside the repository', () => {
    const outside = /\.\.\/shared|SECURITY-TESTS|\b(CONTRACT|STYLE|ARCHITECTURE)\.md\b/;
    const self = 'test/unit/docs/no-conflict-markers.test.ts';
    expect(files().filter((f) => f !== self && outside.test(readFileSync(f, 'utf8')))).toEqual([]);
  });
});
