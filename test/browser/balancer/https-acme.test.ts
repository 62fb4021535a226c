import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumArgs, resolveBrowserExecutable } from '../../../auditor/browser/executable.js';
import { createNodeApiPlugin } from '../../../balancer/control/node-api.js';
import { createJoinToken } from '../../../common/db/queries/tokens.js';
import { insertTestSite, startBalancer, visitPublished, waitFor, waitPublished, type StartedBalancer } from '../../support/balancer-harness.js';
import { startOrigin, type TestOrigin } from '../../support/balancer-origin.js';
import { useTestDatabase } from '../../support/db.js';
import { spawnNode, type NodeProcess } from '../../support/node-process.js';
import { pebbleInstalled, startPebble, type Pebble } from '../../support/pebble.js';
import { freePort } from '../../support/ports.js';
import { testTlsSecret } from '../../support/tls.js';

// The whole way, as a visitor's browser sees it: pebble (Let's Encrypt's test CA) issues a
// certificate for a registered site through the balancer's HTTP-01 answer; real Chromium,
// trusting pebble's CA and nothing else, loads the site over HTTPS and HTTP/2 through the
// balancer, and the page's bytes come from a real `verity node`, reached over TLS pinned to the
// key it registered, and verified.

if (!pebbleInstalled()) throw new Error('pebble is not installed (apt-get install pebble; .ci/run installs it)');

const db = useTestDatabase({ truncate: false });
const HOST = 'www.shop.test';
let origin: TestOrigin;
let node: NodeProcess;
let nodeDir: string;
let pebble: Pebble;
let bal: StartedBalancer;
let browser: Browser;
let profile: string;
let siteId: string;
let nodeId: string;

beforeAll(async () => {
  origin = await startOrigin();
  const [plainPort, tlsPort] = [await freePort(), await freePort()];
  pebble = await startPebble({ httpPort: plainPort, tlsPort });
  siteId = await insertTestSite(db.pool, { host: HOST, origin: origin.url });
  bal = await startBalancer({
    pool: db.pool, plugins: [createNodeApiPlugin({ heartbeatIntervalMs: 500 })],
    config: {
      listen: { host: '127.0.0.1', port: plainPort }, tlsListen: { host: '127.0.0.1', port: tlsPort }, tlsSecret: testTlsSecret,
      acmeDirectory: pebble.directoryUrl, acmeEmail: 'ops@shop.test', acmeCa: pebble.caFile, acmeChallenges: ['http-01'],
    },
    deps: { acme: { intervalMs: 300, propagationMs: 100 } },
  });
  // A volunteer enrols with a join token; the node makes its TLS key and registers it.
  const { token } = await createJoinToken(db.pool, { siteId, uses: 1, ttlMs: 600_000 });
  nodeDir = mkdtempSync(join(tmpdir(), 'verity-https-node-'));
  node = spawnNode(['--balancer', bal.controlUrl, '--token', token, '--listen', '127.0.0.1:0', '--status-listen', '127.0.0.1:0', '--data-dir', nodeDir], { VERITY_NODE_PLAIN_HTTP: '' });
  const ready = await node.ready(30_000);
  nodeId = ready.nodeId;
  expect(ready.url).toMatch(/^https:/);
  // Trusted from the start: probation would hold back its share of traffic.
  await db.pool.query("UPDATE nodes SET status = 'active' WHERE id = $1", [nodeId]);
  await waitFor(() => bal.balancer.runtime.table.node(nodeId)?.status === 'active' && bal.balancer.runtime.table.node(nodeId)?.tlsSpki);
  await waitFor(() => bal.balancer.certs?.forSite(siteId), 60_000);
  await waitPublished(bal, siteId, '/page', HOST);
  expect((await visitPublished(bal, '/page', { host: HOST })).headers['x-verity-node']).toBe(nodeId);
  // Chromium trusts pebble's issuing CA (its key, which signs the served chain) and nothing else.
  const spki = createHash('sha256').update(new X509Certificate(await pebble.intermediate()).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  const executablePath = await resolveBrowserExecutable();
  if (!executablePath) throw new Error('no Chromium found');
  profile = mkdtempSync(join(tmpdir(), 'verity-https-chrome-'));
  browser = await puppeteer.launch({
    executablePath, headless: true, userDataDir: profile,
    // Our own page in a test browser run by root: not the auditor's sandboxed renderer.
    args: [...chromiumArgs, '--no-sandbox', `--host-resolver-rules=MAP *.shop.test 127.0.0.1`, `--ignore-certificate-errors-spki-list=${spki}`],
  });
}, 150_000);

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await bal?.close();
  pebble?.close();
  await node?.stop();
  if (nodeDir) rmSync(nodeDir, { recursive: true, force: true });
  await origin?.close();
});

it('Chromium loads the site over HTTPS/2 with the ACME certificate; the page comes from the node', async () => {
  const page = await browser.newPage();
  const port = new URL(String(bal.tlsUrl)).port;
  const res = await page.goto(`https://${HOST}:${port}/page`, { waitUntil: 'load' });
  expect(res?.status()).toBe(200);
  expect(res?.headers()['x-verity-node']).toBe(nodeId);
  expect(res?.securityDetails()?.subjectName()).toBe(HOST);
  expect(res?.securityDetails()?.issuer()).toMatch(/Pebble/i);
  const protocol = await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol);
  expect(protocol).toBe('h2');
  expect(await page.$eval('h1', (h) => h.textContent)).toBe('Page');
  // And an unregistered name the browser asks for gets no certificate at all.
  const bad = await browser.newPage();
  await expect(bad.goto(`https://nobody.shop.test:${port}/`, { timeout: 10_000 })).rejects.toThrow();
});
