import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from '../../../bin/programs.js';

describe('docs/configuration.md', () => {
  it('matches the option schemas (run `npm run docs:config` after changing an option)', () => {
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(renderConfigReference());
  });
});
