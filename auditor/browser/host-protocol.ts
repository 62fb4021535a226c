import { z } from 'zod';
import type { Destination, VisitorProfile } from '../fetch/visitor-profile.js';

// The pipe between the auditor and its rendering process. The rendering process holds no
// database credentials and no audit secret: it gets a job, asks the auditor for each resource
// the page loads (the auditor fetches it through the pinned node or from the origin), and
// returns evidence. It renders hostile pages, so everything it sends is validated here.

export interface HostInit {
  t: 'init';
  executablePath: string;
  recycleEvery: number;
  launchTimeoutMs: number;
  /** false only with --allow-no-sandbox, after the sandbox was found unavailable. */
  sandbox: boolean;
  logLevel: string;
}

export interface RenderRequest {
  t: 'render';
  id: number;
  job: { pageUrl: string; profile: VisitorProfile; loadTimeoutMs: number; settleMs: number; stepTimeoutMs: number };
}

export type FetchAnswer =
  | { t: 'fetched'; id: number; req: number; ok: true; status: number; headers: Array<[string, string]>; body: Buffer }
  | { t: 'fetched'; id: number; req: number; ok: false; message: string };

export type ToHost = HostInit | RenderRequest | FetchAnswer | { t: 'kill' } | { t: 'close' } | { t: 'diagnose' };

const bytes = z.instanceof(Uint8Array).transform((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength));
const destinations = ['document', 'script', 'style', 'image', 'font', 'other'] as const satisfies readonly Destination[];
const blockedReasons = ['third-party', 'navigation', 'local-file', 'websocket', 'worker', 'download', 'popup', 'scheme', 'csp'] as const;
const short = (max: number) => z.string().max(max);

const renderOutput = z.object({
  screenshot: bytes,
  dom: short(20_000_000),
  contactedHosts: z.array(short(300)).max(2000),
  blocked: z.array(z.object({ url: short(400), type: short(50), reason: z.enum(blockedReasons) })).max(5000),
  resources: z.array(z.object({ path: short(5000), type: short(50), status: z.number().int(), sha256: short(64) })).max(5000),
  mutations: z.array(z.object({ path: short(2000), what: short(100), value: short(2100) })).max(2000),
  failedLoads: z.array(short(5000)).max(5000),
});

export const sandboxReport = z.object({
  on: z.boolean(),
  /** How it was established: chrome://sandbox says so, renderer processes run seccomp-BPF in their own namespaces. */
  detail: short(2000),
  /** The browser's own version ("HeadlessChrome/156.0.8078.114"): audits claim this Chromium. */
  version: short(100),
});
export type SandboxReport = z.infer<typeof sandboxReport>;

const stats = z.object({ launches: z.number(), renders: z.number(), kills: z.number(), pid: z.number().nullable() });

export const fromHost = z.discriminatedUnion('t', [
  z.object({ t: z.literal('ready'), sandbox: sandboxReport, uid: z.number().int(), error: short(2000).nullable() }),
  z.object({ t: z.literal('fetch'), id: z.number().int(), req: z.number().int(), path: short(10_000), destination: z.enum(destinations), referer: short(10_000) }),
  z.object({
    t: z.literal('result'), id: z.number().int(), stats,
    result: z.discriminatedUnion('ok', [
      z.object({ ok: z.literal(true), output: renderOutput }),
      z.object({ ok: z.literal(false), error: z.enum(['timeout', 'crashed', 'failed']), message: short(2000) }),
    ]),
  }),
  z.object({ t: z.literal('diagnosis'), uid: z.number().int(), gid: z.number().int(), envKeys: z.array(short(200)), browserPids: z.array(z.number().int()) }),
]);
export type FromHost = z.infer<typeof fromHost>;
