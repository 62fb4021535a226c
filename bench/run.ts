import { cpus, loadavg, totalmem } from 'node:os';
import { benchProxy, renderProxy } from './proxy.js';
import { benchSelection, renderSelection } from './selection.js';

// `npm run bench`: every benchmark part, one after another, printed as markdown ready for
// docs/benchmarks.md. Other parts add themselves to `parts`. `npm run bench -- selection` runs one.

interface Part {
  name: string;
  run: () => Promise<string>;
}

const parts: Part[] = [
  { name: 'selection', run: async () => renderSelection(benchSelection()) },
  { name: 'proxy', run: async () => renderProxy(await benchProxy()) },
];

const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const cpu = cpus();
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
process.stdout.write(`Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString()}, load average ${load()}\n\n`);
for (const part of parts) {
  if (only.length > 0 && !only.includes(part.name)) continue;
  process.stdout.write(`## ${part.name}\n\n${await part.run()}\n\n(load average after: ${load()})\n\n`);
}
