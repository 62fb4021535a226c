// `npx tsx bench/propagation.ts [--repeats 20] [--write]`: time from a trust change to every
// balancer routing by it (two real balancers, one real node). Also a part of `npm run bench`.
// --write puts the table into docs/benchmarks.md ("Trust propagation").
import { writeDocsSection } from './docs-section.js';
import { benchPropagation, renderPropagation } from './propagation/bench.js';

const i = process.argv.indexOf('--repeats');
const repeats = i >= 0 ? Number(process.argv[i + 1]) : 20;
if (!Number.isInteger(repeats) || repeats < 1 || repeats > 200) {
  process.stderr.write('propagation: --repeats must be an integer from 1 to 200\n');
  process.exit(2);
}
const result = await benchPropagation({ repeats, progress: (l) => process.stderr.write(`${l}\n`) });
const markdown = renderPropagation(result, `npx tsx bench/propagation.ts --repeats ${repeats}${process.argv.includes('--write') ? ' --write' : ''}`);
process.stdout.write(`${markdown}\n`);
if (process.argv.includes('--write')) writeDocsSection('trust-propagation', markdown);
