import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// A merge left half-resolved must never land: no tracked text file holds conflict markers.

describe('the tree', () => {
  it('has no merge conflict markers', () => {
    const files = execFileSync('git', ['ls-files', '*.ts', '*.md', '*.json', '*.sql', '*.yml', '*.css', '*.js'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const marked = files.filter((f) => /^(<{7} |>{7} |={7}$)/m.test(readFileSync(f, 'utf8')));
    expect(marked).toEqual([]);
  });
});
