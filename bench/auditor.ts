// `npx tsx bench/auditor.ts [--rendered N] [--http N] [--write]`: auditor throughput and memory.
// HTTP-level audits/s (no browser), rendered audits/min, and the RSS of the auditor process
// plus its Chromium after 50 and after N rendered audits (memory stays
// bounded: the browser is recycled every --recycle-every pages).
import { readFileSync, readdirSync } from 'node:fs';
import { startDirectAuditor } from '../test/support/auditor/harness.js';
import { seededRandom } from '../test/support/auditor/seeded.js';
import { startSampleOrigin } from '../test/support/origin/index.js';
import { startRogueNode } from '../test/support/rogue-node.js';
import { writeDocsSection } from './docs-section.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const httpAudits = arg('http', 200);
const renderedAudits = arg('rendered', 500);
const recycleEvery = arg('recycle-every', 50);
const mb = (bytes: number) => Math.round(bytes / 1048576);

/** RSS of a process and all its descendants (Chromium is a tree of processes), from /proc. */
function treeRss(root: number, selfOnly = false): number {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const status = readFileSync(`/proc/${d}/status`, 'utf8');
      parent.set(Number(d), Number(/PPid:\s+(\d+)/.exec(status)?.[1] ?? 0));
      rss.set(Number(d), Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024);
    } catch {
      // gone meanwhile
    }
  }
  const inTree = (pid: number): boolean => pid === root || (!selfOnly && pid > 1 && parent.has(pid) && inTree(parent.get(pid) ?? 0));
  let total = 0;
  for (const [pid, bytes] of rss) if (inTree(pid)) total += bytes;
  return total;
}

const origin = await startSampleOrigin({ varyingStateLength: true });
const node = await startRogueNode({ originUrl: origin.url, kind: 'stale-cache' });
const lines: string[] = [];
try {
  const http = await startDirectAuditor({ browser: false, random: seededRandom(1) });
  let t = Date.now();
  for (let i = 0; i < httpAudits; i++) await http.audit(node.url, origin.url, i % 2 ? '/products' : '/');
  const httpRate = httpAudits / ((Date.now() - t) / 1000);
  await http.close();
  lines.push(`| HTTP-level audits (HTTP, document, subresources; one at a time) | ${httpRate.toFixed(1)} audits/s | ${httpAudits} audits |`);

  const rendered = await startDirectAuditor({ browser: true, random: seededRandom(2), recycleEvery });
  const samples: string[] = [];
  t = Date.now();
  let inconclusive = 0;
  const notPass: string[] = [];
  for (let i = 1; i <= renderedAudits; i++) {
    const run = await rendered.audit(node.url, origin.url, i % 3 === 0 ? '/products' : i % 3 === 1 ? '/' : '/about');
    if (run.verdict !== 'pass') {
      inconclusive++;
      notPass.push(`${run.verdict}${run.renderError ? ` (${run.renderError.slice(0, 80)})` : ''}${run.findings.length ? ` [${run.findings.map((f) => f.kind).join(', ')}]` : ''}`);
      process.stderr.write(`audit ${i}: ${notPass[notPass.length - 1] ?? ''}\n`);
    }
    // Sampled off the recycle boundary (a retired browser is already gone, the next not yet started).
    if (i === 51 || i === renderedAudits - 1 || i % 100 === 51) {
      global.gc?.();
      const own = process.memoryUsage().rss;
      // Every process below this one is a Chromium process (current or leaked): count them all.
      const chrome = treeRss(process.pid) - treeRss(process.pid, true);
      samples.push(`| after ${i} rendered audits | auditor ${mb(own)} MB + Chromium ${mb(chrome)} MB = ${mb(own + chrome)} MB | launches ${rendered.renderer?.stats().launches ?? 0} |`);
      process.stderr.write(`${samples[samples.length - 1] ?? ''}\n`);
    }
  }
  const perMin = renderedAudits / ((Date.now() - t) / 60_000);
  await rendered.close();
  lines.push(`| Rendered audits (both renders, one at a time, recycle every ${recycleEvery}) | ${perMin.toFixed(1)} audits/min | ${renderedAudits} audits, ${inconclusive} not pass${notPass.length ? `: ${notPass.slice(0, 3).join('; ')}` : ''} |`);
  lines.push(...samples);
} finally {
  await node.close();
  await origin.close();
}
const md = `## Auditor throughput and memory

\`npx tsx bench/auditor.ts --write\` — an honest node (stale cache) on the sample origin, audits one after the other, 2 shared cores.
Memory is the RSS of the auditor process plus every Chromium process (from /proc); it must stay flat across browser recycles.

| measure | value | notes |
| --- | --- | --- |
${lines.join('\n')}
`;
process.stdout.write(md);
if (process.argv.includes('--write')) writeDocsSection('auditor-throughput', md);
