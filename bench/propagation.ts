// `npx tsx bench/propagation.ts [--repeats 20] [--runs 3] [--write]`: time from a trust change to
// every balancer routing by it (two real balancers, one real node). Also a part of `npm run bench`.
// --write puts the table into docs/benchmarks.md ("Trust propagation").
import { writeDocsSection } from './docs-section.js';
import { benchPropagation, renderPropagation, type PropagationResult } from './propagation/bench.js';

function intFlag(name: string, fallback: number, max: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    process.stderr.write(`propagation: --${name} must be an integer from 1 to ${max}\n`);
    process.exit(2);
  }
  return value;
}

const repeats = intFlag('repeats', 20, 200);
const runs = intFlag('runs', 3, 10);
const results: PropagationResult[] = [];
for (let i = 0; i < runs; i++) {
  process.stderr.write(`propagation run ${i + 1}/${runs}\n`);
  results.push(await benchPropagation({ repeats, progress: (l) => process.stderr.write(`  ${l}\n`) }));
}
const write = process.argv.includes('--write');
const markdown = renderPropagation(results, `npx tsx bench/propagation.ts --repeats ${repeats} --runs ${runs}${write ? ' --write' : ''}`);
process.stdout.write(`${markdown}\n`);
if (write) writeDocsSection('trust-propagation', markdown);
