import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SUITE_DIR } from './suite-origin.js';

// Runs the vendored suite's own command-line client against one base URL and scores its
// results the way cache-tests.fyi shows them: each test's outcome through the suite's own
// determineTestResult, honouring depends_on (a test whose dependency did not pass is grey).

export type SuiteResults = Record<string, true | [string, string]>;

interface SuiteTest { id: string; kind?: 'required' | 'optimal' | 'check'; browser_only?: boolean; depends_on?: string[] }
interface SuiteGroup { id: string; name: string; tests: SuiteTest[] }
type ResultType = [string, string, string];
interface ResultsModule {
  resultTypes: Record<string, ResultType>;
  determineTestResult: (suites: SuiteGroup[], id: string, results: SuiteResults, honorDependencies?: boolean) => ResultType;
}

const RUN_TIMEOUT_MS = 15 * 60_000;

/** The client, as `npm run cli --base=URL` would start it; JSON results on stdout. */
export function runSuite(baseUrl: string, testId = ''): Promise<{ results: SuiteResults; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', join(SUITE_DIR, 'test-engine/cli.mjs')], {
      cwd: SUITE_DIR,
      // cli.mjs reads npm's config variables; with an empty id it runs every test.
      env: { PATH: process.env.PATH ?? '', npm_config_base: baseUrl, npm_config_id: testId, npm_package_config_id: testId },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (testId) return resolve({ results: {}, output: out + err });
      try {
        resolve({ results: JSON.parse(out) as SuiteResults, output: err });
      } catch {
        reject(new Error(`the suite's client exited ${code} without JSON results: ${(err || out).slice(-2000)}`));
      }
    });
  });
}

export interface Score {
  /** Per test id: the symbol cache-tests.fyi shows (✅ ⛔️ ⚠️ Y N 🔹 ⁉️ ⚪️ ↻ -). */
  outcome: Record<string, string>;
  required: { pass: number; total: number };
  optimal: { pass: number; total: number };
  checks: { yes: number; total: number };
  /** Tests greyed out because something they depend on did not pass. */
  dependencyFail: number;
  setupOrHarnessFail: number;
}

export async function loadSuite(): Promise<{ suites: SuiteGroup[]; results: ResultsModule }> {
  const suites = ((await import(pathToFileURL(join(SUITE_DIR, 'tests/index.mjs')).href)) as { default: SuiteGroup[] }).default;
  const results = (await import(pathToFileURL(join(SUITE_DIR, 'test-engine/lib/results.mjs')).href)) as ResultsModule;
  return { suites, results };
}

export async function score(results: SuiteResults): Promise<Score> {
  const { suites, results: lib } = await loadSuite();
  const t = lib.resultTypes;
  const s: Score = { outcome: {}, required: { pass: 0, total: 0 }, optimal: { pass: 0, total: 0 }, checks: { yes: 0, total: 0 }, dependencyFail: 0, setupOrHarnessFail: 0 };
  for (const test of suites.flatMap((g) => g.tests)) {
    if (test.browser_only) continue;
    const r = lib.determineTestResult(suites, test.id, results);
    s.outcome[test.id] = r[2];
    const kind = test.kind ?? 'required';
    if (kind === 'check') {
      s.checks.total += 1;
      if (r === t.yes) s.checks.yes += 1;
    } else {
      s[kind].total += 1;
      if (r === t.pass) s[kind].pass += 1;
    }
    if (r === t.dependency_fail) s.dependencyFail += 1;
    if (r === t.setup_fail || r === t.harness_fail || r === t.retry) s.setupOrHarnessFail += 1;
  }
  return s;
}
