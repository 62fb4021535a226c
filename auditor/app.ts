import { randomBytes } from 'node:crypto';
import type { Pool } from '../common/db/pool.js';
import type { Logger } from '../common/log.js';
import { loadTrustPolicy } from '../common/db/queries/trust-policy.js';
import { defaultTrustPolicy, type TrustPolicy } from '../common/domain/trust.js';
import { describeError } from '../common/errors.js';
import { resolveBrowserExecutable } from './browser/executable.js';
import { startSandboxedRenderer, type SandboxedRenderer } from './render-host/client.js';
import { majorOf } from './fetch/client-hints.js';
import { createHttpClient, type HttpClient } from './fetch/http-client.js';
import { startAuditWorker, type AuditWorker } from './worker.js';

// The auditor assembled: HTTP client, browser (if any), worker loop. main.ts and the demo start
// it; it reads no environment of its own.

export interface AuditorSettings {
  /** Told of every finished audit (metrics). */
  onAuditDone?: (verdict: string, durationMs: number, rendered: string) => void;
  concurrency: number;
  auditEverySeconds: number;
  /** null: audit nodes at their own address (local trials without a balancer). */
  balancerUrl: string | null;
  auditSecret: string;
  recycleEvery: number;
  loadTimeoutMs: number;
  stepTimeoutMs: number;
  settleMs: number;
  auditTimeoutMs: number;
  /** false: HTTP and document checks only. */
  browser: boolean;
  /** Render even where Chromium cannot have its sandbox (loudly). */
  allowNoSandbox?: boolean;
  logLevel?: string;
  env?: Readonly<Record<string, string | undefined>>;
  pollMs?: number;
  workerName?: string;
  /** Think time (mean, cap) of a visitor clicking through the site before the audited page (tests shorten it). */
  thinkTimeMs?: readonly [number, number];
  /** When confirmation audits run after an unconfirmed tamper verdict (tests shorten it). */
  confirmationWindowsMs?: ReadonlyArray<readonly [number, number]>;
}

export interface RunningAuditor {
  worker: AuditWorker;
  renderer: SandboxedRenderer | null;
  /** Why rendered checks are skipped, or null when a browser renders them. */
  browserMissing: string | null;
  stop(): Promise<void>;
}

/** The `trust_policy` setting, re-read at most once a minute; a bad one keeps the last good policy. */
function cachedTrustPolicy(pool: Pool, log: Logger, ttlMs = 60_000): () => Promise<TrustPolicy> {
  let cached: { at: number; policy: TrustPolicy } | null = null;
  return async () => {
    if (cached && Date.now() - cached.at < ttlMs) return cached.policy;
    try {
      cached = { at: Date.now(), policy: await loadTrustPolicy(pool) };
    } catch (err) {
      log.error({ err: describeError(err) }, 'trust policy setting refused; keeping the previous policy');
      cached = { at: Date.now(), policy: cached?.policy ?? defaultTrustPolicy };
    }
    return cached.policy;
  };
}

/** Unpredictable, and never the same sequence in two processes. */
export function secureRandom(): number {
  return randomBytes(6).readUIntBE(0, 6) / 2 ** 48;
}

export async function startAuditor(s: AuditorSettings, deps: { pool: Pool; log: Logger; random?: () => number; now?: () => Date; client?: HttpClient }): Promise<RunningAuditor> {
  const executablePath = s.browser ? await resolveBrowserExecutable(s.env ?? process.env) : null;
  const browserMissing = !s.browser
    ? 'rendering disabled (--no-browser): HTTP and document checks only; rendered checks are skipped'
    : executablePath
      ? null
      : 'no browser found (set PUPPETEER_EXECUTABLE_PATH or install chromium): HTTP and document checks only; rendered checks are skipped';
  const renderer = executablePath
    ? await startSandboxedRenderer({ executablePath, recycleEvery: s.recycleEvery, launchTimeoutMs: 30_000, log: deps.log, logLevel: s.logLevel, allowNoSandbox: s.allowNoSandbox ?? false })
    : null;
  const client = deps.client ?? createHttpClient();
  const trustPolicy = cachedTrustPolicy(deps.pool, deps.log);
  const worker = startAuditWorker({
    trustPolicy,
    pool: deps.pool,
    log: deps.log,
    client,
    render: renderer ? (job) => renderer.render(job) : null,
    balancer: s.balancerUrl ? { url: s.balancerUrl, auditSecret: s.auditSecret } : null,
    concurrency: s.concurrency,
    auditEveryMs: s.auditEverySeconds * 1000,
    renderSettings: { loadTimeoutMs: s.loadTimeoutMs, settleMs: s.settleMs, stepTimeoutMs: s.stepTimeoutMs },
    limits: { timeoutMs: s.stepTimeoutMs, maxBytes: 10_000_000 },
    auditTimeoutMs: s.auditTimeoutMs,
    pollMs: s.pollMs ?? 1000,
    random: deps.random ?? secureRandom,
    now: deps.now ?? (() => new Date()),
    workerName: s.workerName,
    chromiumMajor: renderer ? (majorOf(renderer.sandboxReport.version) ?? undefined) : undefined,
    onAuditDone: s.onAuditDone,
    confirmationWindowsMs: s.confirmationWindowsMs,
    thinkTimeMs: s.thinkTimeMs,
  });
  return {
    worker,
    renderer,
    browserMissing,
    async stop() {
      await worker.stop();
      await renderer?.close();
      client.close();
    },
  };
}
