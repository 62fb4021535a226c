import type { Logger } from '../../common/log.js';
import { describeError } from '../../common/errors.js';
import type { HostInit, RenderRequest, ToHost } from '../browser/host-protocol.js';
import type { SiteAnswer } from '../browser/render.js';
import { createRenderer, type Renderer } from '../browser/renderer.js';

// The rendering process's side of the pipe: one browser, jobs in, evidence out. Every resource a
// page loads is asked of the auditor (which alone can reach the pinned node); nothing here can
// reach the database or sign a pin.

export interface HostChannel {
  send(message: unknown): void;
  onMessage(handler: (message: ToHost) => void): void;
}

export function serveRenderHost(channel: HostChannel, makeLog: (level: string) => Logger, exit: () => void): void {
  let renderer: Renderer | null = null;
  let nextReq = 0;
  const pending = new Map<number, { resolve: (a: SiteAnswer) => void; reject: (e: Error) => void }>();

  const init = async (m: HostInit) => {
    const log = makeLog(m.logLevel);
    await renderer?.close();
    renderer = createRenderer({ executablePath: m.executablePath, recycleEvery: m.recycleEvery, launchTimeoutMs: m.launchTimeoutMs, log, sandbox: m.sandbox });
    const uid = process.getuid?.() ?? -1;
    try {
      const sandbox = await renderer.sandbox();
      channel.send({ t: 'ready', sandbox, uid, error: null });
    } catch (err) {
      channel.send({ t: 'ready', sandbox: { on: false, detail: 'the browser did not start', version: '' }, uid, error: describeError(err).slice(0, 2000) });
    }
  };

  const render = async (m: RenderRequest) => {
    if (!renderer) return;
    const fetchSite = (path: string, destination: string, referer: string) => new Promise<SiteAnswer>((resolve, reject) => {
      const req = nextReq++;
      pending.set(req, { resolve, reject });
      channel.send({ t: 'fetch', id: m.id, req, path, destination, referer });
    });
    const result = await renderer.render({ ...m.job, fetchSite });
    channel.send({ t: 'result', id: m.id, result, stats: renderer.stats() });
  };

  channel.onMessage((m) => {
    if (m.t === 'init') void init(m);
    else if (m.t === 'render') void render(m).catch(() => undefined);
    else if (m.t === 'fetched') {
      const p = pending.get(m.req);
      pending.delete(m.req);
      if (m.ok) p?.resolve({ status: m.status, headers: m.headers, body: Buffer.from(m.body) });
      else p?.reject(new Error(m.message));
    } else if (m.t === 'kill') renderer?.kill();
    else if (m.t === 'diagnose') {
      channel.send({ t: 'diagnosis', uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, envKeys: Object.keys(process.env), browserPids: renderer?.stats().pid ? [renderer.stats().pid ?? 0] : [] });
    } else if (m.t === 'close') void (renderer?.close() ?? Promise.resolve()).finally(exit);
  });
}
