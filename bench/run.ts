import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { benchPropagation, renderPropagation } from './propagation/bench.js';
import { benchClassifier, renderClassifier } from './classifier/bench.js';
import { benchProxy, renderProxy } from './proxy.js';
import { benchSelection, renderSelection } from './selection.js';

// `npm run bench`: every benchmark part, one after another, printed as markdown. Other parts
// add themselves to `parts`. `npm run bench -- selection` runs one; `--write` also replaces the
// part's block (<!-- balancer-NAME:begin/end -->) in docs/benchmarks.md.

interface Part {
  name: string;
  run: () => Promise<string>;
}

function flag(name: string): number | undefined {
  const v = process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  return v === undefined ? undefined : Number(v);
}

const parts: Part[] = [
  { name: 'selection', run: async () => renderSelection(benchSelection()) },
  // `--seconds=1 --rounds=1`: a smoke run that only checks every row works.
  { name: 'proxy', run: async () => renderProxy(await benchProxy({ seconds: flag('seconds'), rounds: flag('rounds') })) },
  // Trust change → both of two real balancers route by it (bench/propagation.ts runs it alone, with --runs and --write).
  { name: 'propagation', run: async () => renderPropagation([await benchPropagation({ repeats: 20 })], 'npm run bench -- propagation', { heading: false }) },
  // Can a node tell audits from visitors? (issue 15.2; bench/classifier.ts runs it alone, longer, with --write)
  { name: 'classifier', run: async () => renderClassifier(await benchClassifier({ seconds: 90 })) },
];

const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const write = process.argv.includes('--write');
const docs = new URL('../docs/benchmarks.md', import.meta.url);

function writeBlock(name: string, text: string): void {
  const doc = readFileSync(docs, 'utf8');
  const begin = `<!-- balancer-${name}:begin -->`;
  const end = `<!-- balancer-${name}:end -->`;
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from === -1 || to < from) return void process.stderr.write(`docs/benchmarks.md has no ${begin} block; not written\n`);
  writeFileSync(docs, `${doc.slice(0, from + begin.length)}\n${text}\n${doc.slice(to)}`);
}
const cpu = cpus();
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
process.stdout.write(`Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString()}, load average ${load()}\n\n`);
for (const part of parts) {
  if (only.length > 0 && !only.includes(part.name)) continue;
  const text = await part.run();
  const stamp = `(${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z, load average ${load()})`;
  process.stdout.write(`## ${part.name}\n\n${text}\n\n${stamp}\n\n`);
  if (write) writeBlock(part.name, `${text}\n\n${stamp}`);
}
