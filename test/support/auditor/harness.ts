import type { Renderer } from '../../../auditor/browser/renderer.js';
import { startSandboxedRenderer, type SandboxedRenderer } from '../../../auditor/render-host/client.js';
import { resolveBrowserExecutable } from '../../../auditor/browser/executable.js';
import { createAuditMemory, runAudit, type AuditRun, type RenderSettings } from '../../../auditor/checks/run-audit.js';
import { createDirectNodeFetcher, createOriginFetcher } from '../../../auditor/fetch/fetchers.js';
import { createHttpClient, type HttpClient } from '../../../auditor/fetch/http-client.js';
import { drawVisitor } from '../../../auditor/fetch/visitor-profile.js';
import { silentLogger } from '../../../common/log.js';

// Audits straight against a node's address (no balancer): the same checks the worker runs.

// settleMs is virtual time: 10 s of the page's timers run in milliseconds.
export const testRenderSettings: RenderSettings = { loadTimeoutMs: 8_000, settleMs: 10_000, stepTimeoutMs: 8_000 };

export interface DirectAuditor {
  client: HttpClient;
  renderer: SandboxedRenderer | null;
  audit(nodeUrl: string, originUrl: string, path: string, siteHost?: string): Promise<AuditRun>;
  close(): Promise<void>;
}

export async function startDirectAuditor(opts: { browser: boolean; random: () => number; recycleEvery?: number; settings?: RenderSettings }): Promise<DirectAuditor> {
  const client = createHttpClient();
  let renderer: SandboxedRenderer | null = null;
  if (opts.browser) {
    const executablePath = await resolveBrowserExecutable();
    if (!executablePath) throw new Error('no browser found');
    renderer = await startSandboxedRenderer({ executablePath, recycleEvery: opts.recycleEvery ?? 50, launchTimeoutMs: 30_000, log: silentLogger(), allowNoSandbox: false });
  }
  const limits = { timeoutMs: 10_000, maxBytes: 5_000_000 };
  const memory = createAuditMemory();
  return {
    client,
    renderer,
    audit(nodeUrl, originUrl, path, siteHost = 'shop.example') {
      const profile = drawVisitor(opts.random);
      const node = createDirectNodeFetcher(client, nodeUrl, siteHost, profile, limits);
      const origin = createOriginFetcher(client, originUrl, profile, limits);
      return runAudit({ siteHost, originUrl, path }, node, origin, profile, renderer ? (job) => (renderer as Renderer).render(job) : null, opts.settings ?? testRenderSettings, memory);
    },
    async close() {
      client.close();
      await renderer?.close();
    },
  };
}
