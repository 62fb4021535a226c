import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_REQUEST_AUTH_HEADER, signNodeRequest } from '../../common/protocol/node-request-auth.js';
import { startNginx } from './nginx.js';
import { runSuite, score, type Score, type SuiteResults } from './suite.js';
import { startBackShim, startFrontShim, type Shim, type Tags } from './shims.js';
import { SITE_HOST, startVerity, type VerityStack } from './verity.js';

// `npm run conformance`: the http-tests/cache-tests suite (vendored in test/conformance/
// cache-tests) against nginx proxy_cache as it is (the reference), nginx through the harness
// adaptation (to show the adaptation changes nothing), a Verity node alone, and the balancer
// with that node behind it. Targets run one after another (the suite's timing tests need a
// quiet machine). `-- --target node,nginx` picks targets; `-- --id TEST` prints one test's
// exchange on each target; `-- --failures` lists what did not pass; `-- --save DIR` keeps each
// target's raw results; `-- --write` replaces the table in docs/benchmarks.md.

type TargetName = 'nginx' | 'nginx-adapted' | 'node' | 'balancer';
const ALL: TargetName[] = ['nginx', 'nginx-adapted', 'node', 'balancer'];

interface Ctx {
  dir: string;
  origin: string;
  tags: Tags;
  back: Shim;
  verity: VerityStack | null;
}

async function suiteOrigin(): Promise<{ url: string; proc: ChildProcess }> {
  const file = fileURLToPath(new URL('./suite-origin.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /suite origin: (\S+)/.exec(out);
      if (m) resolve(m[1] ?? '');
    });
    proc.on('exit', () => reject(new Error('the suite origin exited')));
  });
  return { url, proc };
}

/** The base URL the suite's client talks to for one target, and how to stop what was started for it. */
async function prepare(target: TargetName, ctx: Ctx): Promise<{ base: string; stop: () => Promise<void> }> {
  if (target === 'nginx') {
    const ng = await startNginx(join(ctx.dir, 'nginx'), ctx.origin);
    return { base: ng.url, stop: ng.stop };
  }
  if (target === 'nginx-adapted') {
    const ng = await startNginx(join(ctx.dir, 'nginx-adapted'), ctx.back.url);
    const front = await startFrontShim({ cache: ng.url, origin: ctx.origin, tags: ctx.tags });
    return { base: front.url, stop: async () => { await front.close(); await ng.stop(); } };
  }
  ctx.verity ??= await startVerity(join(ctx.dir, 'verity'), ctx.back.url);
  const v = ctx.verity;
  // A node alone answers only requests the balancer signed: the front shim signs as the balancer would.
  const sign = target === 'node'
    ? (r: { method: string; host: string; target: string; bodySha256: string }): [string, string][] => [[NODE_REQUEST_AUTH_HEADER, signNodeRequest(v.requestKey, r, Date.now())]]
    : undefined;
  const front = await startFrontShim({ cache: target === 'node' ? v.nodeUrl : v.balancerUrl, origin: ctx.origin, tags: ctx.tags, host: SITE_HOST, ...(sign ? { extra: sign } : {}) });
  return { base: front.url, stop: front.close };
}

function renderTable(rows: [TargetName, Score][]): string {
  const label: Record<TargetName, string> = {
    nginx: 'nginx proxy_cache (reference, as is)',
    'nginx-adapted': 'nginx proxy_cache, through the harness adaptation',
    node: 'Verity node alone',
    balancer: 'Verity balancer with one node',
  };
  const lines = [
    '| target | required passed | optimal passed | passed in all | checks "yes" | not run: a dependency failed | set-up or harness failures |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [t, s] of rows) {
    lines.push(`| ${label[t]} | ${s.required.pass} / ${s.required.total} | ${s.optimal.pass} / ${s.optimal.total} | **${s.required.pass + s.optimal.pass}** | ${s.checks.yes} / ${s.checks.total} | ${s.dependencyFail} | ${s.setupOrHarnessFail} |`);
  }
  return lines.join('\n');
}

/** Tests whose outcome differs between two runs: what the adaptation changes for nginx. */
function differences(a: Score, b: Score): string[] {
  return Object.keys(a.outcome).filter((id) => a.outcome[id] !== b.outcome[id]).map((id) => `${id}: ${a.outcome[id]} → ${b.outcome[id]}`);
}

/** Required and optimal tests that did not pass, with the suite's message (for `--failures`). */
function failures(target: TargetName, s: Score, results: SuiteResults): string {
  const lines = Object.entries(s.outcome)
    .filter(([, o]) => o === '⛔️' || o === '⚠️' || o === '🔹' || o === '⁉️')
    .map(([id, o]) => {
      const r = results[id];
      return `${o} ${id}${Array.isArray(r) ? `: ${r[1]}` : ''}`;
    });
  return `## ${target}: ${lines.length} required or optimal tests not passed\n${lines.join('\n')}\n\n`;
}

function writeDocs(text: string): void {
  const docs = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
  const doc = readFileSync(docs, 'utf8');
  const begin = '<!-- conformance-table:begin -->';
  const end = '<!-- conformance-table:end -->';
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from === -1 || to < from) return void process.stderr.write(`docs/benchmarks.md has no ${begin} block; not written\n`);
  writeFileSync(docs, `${doc.slice(0, from + begin.length)}\n${text}\n${doc.slice(to)}`);
}

function option(name: string): string | null {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? null : (process.argv[i + 1] ?? null);
}

async function main(): Promise<void> {
  const targets = (option('target')?.split(',') ?? ALL) as TargetName[];
  const unknown = targets.filter((t) => !ALL.includes(t));
  if (unknown.length > 0) throw new Error(`unknown target ${unknown.join(', ')} (known: ${ALL.join(', ')})`);
  const testId = option('id') ?? '';
  const dir = mkdtempSync(join(tmpdir(), 'verity-conformance-'));
  // nginx workers and the embedded PostgreSQL may run as another user than ours.
  chmodSync(dir, 0o755);
  const origin = await suiteOrigin();
  const tags: Tags = new Map();
  const ctx: Ctx = { dir, origin: origin.url, tags, back: await startBackShim(origin.url, tags), verity: null };
  const rows: [TargetName, Score][] = [];
  try {
    for (const target of targets) {
      const t0 = Date.now();
      const { base, stop } = await prepare(target, ctx);
      try {
        const { results, output } = await runSuite(base, testId);
        if (testId) {
          process.stdout.write(`## ${target}\n\n${output}\n`);
          continue;
        }
        const s = await score(results);
        rows.push([target, s]);
        if (process.argv.includes('--failures')) process.stdout.write(failures(target, s, results));
        const save = option('save');
        if (save) writeFileSync(join(save, `${target}.json`), `${JSON.stringify(results, null, 1)}\n`);
        process.stderr.write(`${target}: ${s.required.pass + s.optimal.pass} passed (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
      } finally {
        await stop();
      }
    }
  } finally {
    await ctx.verity?.stop();
    await ctx.back.close();
    origin.proc.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  if (testId) return;
  const stamp = `(suite ${readFileSync(new URL('../../test/conformance/cache-tests/VENDORED.txt', import.meta.url), 'utf8').match(/commit (\w{12})/)?.[1] ?? '?'}, Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z)`;
  let text = `${renderTable(rows)}\n\n${stamp}`;
  const direct = rows.find(([t]) => t === 'nginx')?.[1];
  const adapted = rows.find(([t]) => t === 'nginx-adapted')?.[1];
  if (direct && adapted) {
    const diff = differences(direct, adapted);
    text += `\n\nTests whose outcome the adaptation changes for nginx: ${diff.length === 0 ? 'none' : diff.join('; ')}.`;
  }
  process.stdout.write(`${text}\n`);
  if (process.argv.includes('--write')) writeDocs(text);
}

await main();
