import { writeFileSync } from 'node:fs';
import { renderConfigReference } from './programs.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigReference());
process.stdout.write('wrote docs/configuration.md\n');
