import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumArgs, resolveBrowserExecutable } from '../../../auditor/browser/executable.js';
import { insertTestNode, insertTestSite, startBalancer, waitFor, waitPublished, type StartedBalancer } from '../../support/balancer-harness.js';
import { startOrigin, type TestOrigin } from '../../support/balancer-origin.js';
import { useTestDatabase } from '../../support/db.js';
import { startHostileNode, type HostileNode } from '../../support/hostile-node.js';
import { freePort, pebbleInstalled, startPebble, type Pebble } from '../../support/pebble.js';
import { testTlsSecret } from '../../support/tls.js';

// The whole way, as a visitor's browser sees it: pebble (Let's Encrypt's test CA) issues a
// certificate for a registered site through the balancer's HTTP-01 answer; real Chromium,
// trusting pebble's CA and nothing else, loads the site over HTTPS and HTTP/2 through the
// balancer, and the page's bytes come from a volunteer node, verified.

if (!pebbleInstalled()) throw new Error('pebble is not installed (apt-get install pebble; .ci/run installs it)');

const db = useTestDatabase({ truncate: false });
const HOST = 'www.shop.test';
let origin: TestOrigin;
let node: HostileNode;
let pebble: Pebble;
let bal: StartedBalancer;
let browser: Browser;
let profile: string;
let siteId: string;
let nodeId: string;

beforeAll(async () => {
  origin = await startOrigin();
  node = await startHostileNode({ origin: origin.url });
  const [plainPort, tlsPort] = [await freePort(), await freePort()];
  pebble = await startPebble({ httpPort: plainPort, tlsPort });
  siteId = await insertTestSite(db.pool, { host: HOST, origin: origin.url });
  nodeId = await insertTestNode(db.pool, { url: node.url, siteIds: [siteId] });
  bal = await startBalancer({
    pool: db.pool,
    config: {
      listen: { host: '127.0.0.1', port: plainPort }, tlsListen: { host: '127.0.0.1', port: tlsPort }, tlsSecret: testTlsSecret,
      acmeDirectory: pebble.directoryUrl, acmeEmail: 'ops@shop.test', acmeCa: pebble.caFile, acmeChallenges: ['http-01'],
    },
    deps: { acme: { intervalMs: 300, propagationMs: 100 } },
  });
  await waitFor(() => bal.balancer.certs?.forSite(siteId), 60_000);
  await waitPublished(bal, siteId, '/page', HOST);
  // Chromium trusts pebble's issuing CA (its key, which signs the served chain) and nothing else.
  const spki = createHash('sha256').update(new X509Certificate(await pebble.intermediate()).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  const executablePath = await resolveBrowserExecutable();
  if (!executablePath) throw new Error('no Chromium found');
  profile = mkdtempSync(join(tmpdir(), 'verity-https-chrome-'));
  browser = await puppeteer.launch({
    executablePath, headless: true, userDataDir: profile,
    args: [...chromiumArgs, `--host-resolver-rules=MAP *.shop.test 127.0.0.1`, `--ignore-certificate-errors-spki-list=${spki}`],
  });
}, 150_000);

afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
  await bal?.close();
  pebble?.close();
  await node?.close();
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
