// `npx tsx bench/classifier.ts [--seconds N] [--write]`: the classifier node (issue 15.2) on its
// own; `npm run bench` runs it as the part "classifier". --write replaces the section in
// docs/benchmarks.md.
import { benchClassifier, renderClassifier } from './classifier/bench.js';
import { writeDocsSection } from './docs-section.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const result = await benchClassifier({ seconds: arg('seconds', 120), sessionsPerSecond: arg('sessions-per-second', 0.5), auditEverySeconds: arg('audit-every', 8), dump: process.argv.includes('--dump') ? process.argv[process.argv.indexOf('--dump') + 1] : undefined });
const md = `## Classifier node: can a node tell audits from visitors?\n\n\`npx tsx bench/classifier.ts --write\` (also part of \`npm run bench\`).\n\n${renderClassifier(result)}\n`;
process.stdout.write(md);
if (process.argv.includes('--write')) writeDocsSection('classifier-node', md);
process.exit(0);
