import { fork, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeError, VerityError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { fromHost, type FromHost, type RenderRequest, type SandboxReport, type ToHost } from '../browser/host-protocol.js';
import type { RenderJob } from '../browser/render.js';
import type { Renderer, RendererStats, RenderResult } from '../browser/renderer.js';

// The auditor's side of the rendering process: starts it (as `nobody` when the auditor runs as
// root, with a bare environment), checks at start that Chromium's sandbox is on, and refuses to
// go on without it unless the operator allowed that (--allow-no-sandbox). Jobs go out over the
// pipe; each resource the page asks for is fetched here, where the pin secret lives.

export interface SandboxedRendererOptions {
  executablePath: string;
  recycleEvery: number;
  launchTimeoutMs: number;
  log: Logger;
  logLevel?: string;
  /** Go on (loudly) when the machine cannot give Chromium a sandbox. */
  allowNoSandbox: boolean;
}

export interface HostDiagnosis {
  uid: number;
  gid: number;
  envKeys: string[];
  browserPids: number[];
}

export interface SandboxedRenderer extends Renderer {
  /** What the start-up check found (and whether the browser runs without sandbox by permission). */
  readonly sandboxReport: SandboxReport;
  /** The rendering process's own uid, environment names and browser pid (tests). */
  diagnose(): Promise<HostDiagnosis>;
  readonly hostPid: number | null;
}

/** The unprivileged account rendering runs as when the auditor is root. */
function unprivilegedUser(): { uid: number; gid: number } {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'));
    const [, , uid, gid] = line?.split(':') ?? [];
    if (uid && gid) return { uid: Number(uid), gid: Number(gid) };
  } catch {
    // no /etc/passwd: Debian's nobody
  }
  return { uid: 65534, gid: 65534 };
}

function hostEnvironment(home: string): Record<string, string> {
  // Nothing of the auditor's own environment: no DATABASE_URL, no VERITY_*, no secrets. Its
  // temporary folder is its own: the auditor's may not be writable by the unprivileged user.
  return { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, TMPDIR: join(home, 'tmp'), XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache'), LANG: 'C.UTF-8' };
}

interface Child {
  proc: ChildProcess;
  home: string;
  ready: Promise<Extract<FromHost, { t: 'ready' }>>;
}

interface InFlight {
  job: RenderJob;
  resolve: (r: RenderResult) => void;
  timer: NodeJS.Timeout;
}

export async function startSandboxedRenderer(opts: SandboxedRendererOptions): Promise<SandboxedRenderer> {
  const user = process.getuid?.() === 0 ? unprivilegedUser() : null;
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const entry = fileURLToPath(new URL('./main.ts', import.meta.url));
  const inFlight = new Map<number, InFlight>();
  const diagnoses: Array<(d: HostDiagnosis) => void> = [];
  let stats: RendererStats = { launches: 0, renders: 0, kills: 0, pid: null };
  let child: Child | null = null;
  let sandbox = true;
  let nextId = 0;
  let closed = false;

  const send = (m: ToHost) => {
    if (child?.proc.connected) child.proc.send(m);
  };
  const settleAll = (message: string) => {
    for (const [id, f] of inFlight) {
      clearTimeout(f.timer);
      inFlight.delete(id);
      f.resolve({ ok: false, error: 'crashed', message });
    }
  };

  const onMessage = (raw: unknown) => {
    const parsed = fromHost.safeParse(raw);
    if (!parsed.success) {
      // The rendering process renders hostile pages: a malformed message means it is not ours any more.
      opts.log.error({ issue: parsed.error.issues[0]?.message }, 'rendering process sent a bad message; killing it');
      child?.proc.kill('SIGKILL');
      return;
    }
    const m = parsed.data;
    if (m.t === 'fetch') {
      const f = inFlight.get(m.id);
      if (!f) return send({ t: 'fetched', id: m.id, req: m.req, ok: false, message: 'no such render' });
      f.job.fetchSite(m.path, m.destination, m.referer).then(
        (a) => send({ t: 'fetched', id: m.id, req: m.req, ok: true, status: a.status, headers: a.headers, body: a.body }),
        (err: unknown) => send({ t: 'fetched', id: m.id, req: m.req, ok: false, message: describeError(err).slice(0, 500) }),
      );
    } else if (m.t === 'result') {
      stats = m.stats;
      const f = inFlight.get(m.id);
      if (!f) return;
      clearTimeout(f.timer);
      inFlight.delete(m.id);
      f.resolve(m.result);
    } else if (m.t === 'diagnosis') diagnoses.shift()?.(m);
  };

  const spawnHost = (): Child => {
    const home = mkdtempSync(join(tmpdir(), 'verity-render-'));
    const own = [home, join(home, '.config'), join(home, '.cache'), join(home, 'tmp')];
    for (const d of own.slice(1)) mkdirSync(d);
    if (user) for (const d of own) chownSync(d, user.uid, user.gid);
    const proc = fork(entry, [], {
      execArgv: ['--import', loader], env: hostEnvironment(home), cwd: home, serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...(user ?? {}),
    });
    let resolveReady: (m: Extract<FromHost, { t: 'ready' }>) => void = () => undefined;
    const ready = new Promise<Extract<FromHost, { t: 'ready' }>>((r) => (resolveReady = r));
    proc.on('message', (raw) => {
      const m = fromHost.safeParse(raw);
      if (m.success && m.data.t === 'ready') resolveReady(m.data);
      else onMessage(raw);
    });
    proc.on('exit', (code, signal) => {
      resolveReady({ t: 'ready', sandbox: { on: false, detail: 'the rendering process exited', version: '' }, uid: -1, error: `rendering process exited (${signal ?? code ?? '?'})` });
      if (child?.proc === proc) child = null;
      settleAll('the rendering process died');
      rmSync(home, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
    });
    // The rendering process logs at the auditor's own level (silent in tests).
    proc.send({ t: 'init', executablePath: opts.executablePath, recycleEvery: opts.recycleEvery, launchTimeoutMs: opts.launchTimeoutMs, sandbox, logLevel: opts.logLevel ?? opts.log.level } satisfies ToHost);
    return { proc, home, ready };
  };

  const ensure = async (): Promise<Child> => {
    if (child && child.proc.exitCode === null && child.proc.signalCode === null) return child;
    child = spawnHost();
    const ready = await child.ready;
    if (ready.error) throw new VerityError('AUD_ERR_BROWSER_CRASHED', ready.error);
    return child;
  };

  // Start-up check: with the sandbox, or (only when allowed) loudly without.
  child = spawnHost();
  let ready = await child.ready;
  let report: SandboxReport = ready.sandbox;
  if (ready.error || !ready.sandbox.on) {
    const why = ready.error ?? ready.sandbox.detail;
    if (!opts.allowNoSandbox) {
      child.proc.kill('SIGKILL');
      throw new VerityError('AUD_ERR_NO_SANDBOX', `Chromium cannot run with its sandbox on this machine (${why}); the auditor renders pages from untrusted nodes and will not do that unsandboxed. Fix the machine (unprivileged user namespaces), or start with --allow-no-sandbox to accept the risk.`);
    }
    opts.log.error({ why }, 'CHROMIUM SANDBOX UNAVAILABLE: rendering untrusted pages WITHOUT a sandbox because --allow-no-sandbox was given');
    child.proc.kill('SIGKILL');
    sandbox = false;
    child = spawnHost();
    ready = await child.ready;
    if (ready.error) throw new VerityError('AUD_ERR_BROWSER_CRASHED', ready.error);
    report = { on: false, detail: `allowed to run without sandbox (--allow-no-sandbox): ${why}`, version: ready.sandbox.version };
  }

  return {
    sandboxReport: report,
    get hostPid() {
      return child?.proc.pid ?? null;
    },
    async render(job) {
      if (closed) return { ok: false, error: 'failed', message: 'the renderer is closed' };
      try {
        await ensure();
      } catch (err) {
        return { ok: false, error: 'crashed', message: `browser did not start: ${describeError(err)}` };
      }
      const id = nextId++;
      return new Promise<RenderResult>((resolve) => {
        // Backstop: the rendering process keeps its own deadlines; past these it is wedged.
        const ms = job.loadTimeoutMs + job.stepTimeoutMs * 6 + 10_000;
        const timer = setTimeout(() => {
          inFlight.delete(id);
          resolve({ ok: false, error: 'timeout', message: `no render result within ${ms} ms; rendering process killed` });
          child?.proc.kill('SIGKILL');
        }, ms);
        inFlight.set(id, { job, resolve, timer });
        const { pageUrl, profile, loadTimeoutMs, settleMs, stepTimeoutMs } = job;
        send({ t: 'render', id, job: { pageUrl, profile, loadTimeoutMs, settleMs, stepTimeoutMs } } satisfies RenderRequest);
      });
    },
    stats: () => ({ ...stats }),
    kill: () => send({ t: 'kill' }),
    sandbox: async () => report,
    async diagnose() {
      await ensure();
      return new Promise<HostDiagnosis>((resolve) => {
        diagnoses.push(resolve);
        send({ t: 'diagnose' });
      });
    },
    async close() {
      closed = true;
      const c = child;
      if (!c) return;
      const exited = new Promise<void>((r) => c.proc.once('exit', () => r()));
      send({ t: 'close' });
      const timer = setTimeout(() => c.proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
