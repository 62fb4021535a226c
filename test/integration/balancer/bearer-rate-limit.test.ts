import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { adminApiPlugin } from '../../../balancer/control/admin-api.js';
import { AUTH_FAILURE_WINDOW_MS, MAX_AUTH_FAILURES } from '../../../balancer/control/auth-failures.js';
import { dashboardPlugin } from '../../../dashboards/plugin.js';
import { startControlPlane, type ControlPlane } from '../../support/control-harness.js';
import { dashboardClient } from '../../support/dashboard-client.js';
import { useTestDatabase } from '../../support/db.js';

// Guessing the admin token through `Authorization: Bearer` is slowed down per address, on every
// API and page, and shares one budget with the login form.

const TOKEN = 'rate-limit-admin-token-0123456789';
const db = useTestDatabase();
let cp: ControlPlane | undefined;
afterEach(async () => {
  await cp?.close();
  cp = undefined;
});

/** GET from a chosen loopback source address (127.0.0.2 is another client than 127.0.0.1). */
function getFrom(url: string, bearer: string, localAddress = '127.0.0.1'): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, headers: { authorization: `Bearer ${bearer}` } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
    });
    req.once('error', reject);
    req.end();
  });
}

async function start(now: () => number): Promise<ControlPlane> {
  cp = await startControlPlane({ pool: db.pool, plugins: [adminApiPlugin, dashboardPlugin], adminToken: TOKEN, now });
  return cp;
}

describe('failed bearer authentication', () => {
  it('locks the address out of every API and page after the allowed wrong guesses, then lets it in again', async () => {
    let clock = Date.parse('2026-03-01T10:00:00Z');
    const c = await start(() => clock);
    const paths = ['/api/v1/nodes', '/api/v1/audits', '/nodes', '/'];
    for (let i = 0; i < MAX_AUTH_FAILURES; i++) {
      expect((await getFrom(`${c.url}${paths[i % paths.length]}`, `guess-${i}`)).status).toBe(401);
    }
    for (const path of paths) {
      const blocked = await getFrom(`${c.url}${path}`, 'guess-again');
      expect(blocked.status, path).toBe(429);
      expect(Number(blocked.retryAfter)).toBe(AUTH_FAILURE_WINDOW_MS / 1000);
    }
    // The right token does not help a locked-out address: its token is not even compared.
    expect((await getFrom(`${c.url}/api/v1/nodes`, TOKEN)).status).toBe(429);
    // Another address is a different client.
    expect((await getFrom(`${c.url}/api/v1/nodes`, TOKEN, '127.0.0.2')).status).toBe(200);
    // The login form is closed to the locked-out address too.
    const login = await dashboardClient(c.url).login(TOKEN);
    expect(login.status).toBe(429);
    clock += AUTH_FAILURE_WINDOW_MS;
    expect((await getFrom(`${c.url}/api/v1/nodes`, TOKEN)).status).toBe(200);
  });

  it('counts wrong logins and wrong bearer tokens against one budget', async () => {
    const c = await start(Date.now);
    const browser = dashboardClient(c.url);
    for (let i = 0; i < MAX_AUTH_FAILURES / 2; i++) expect((await browser.login(`wrong-${i}`)).status).toBe(401);
    for (let i = 0; i < MAX_AUTH_FAILURES / 2; i++) expect((await getFrom(`${c.url}/api/v1/sites`, `wrong-${i}`)).status).toBe(401);
    expect((await getFrom(`${c.url}/api/v1/sites`, TOKEN)).status).toBe(429);
  });

  it('does not count requests that carry no bearer token, and forgets failures after a success', async () => {
    const c = await start(Date.now);
    for (let i = 0; i < MAX_AUTH_FAILURES * 2; i++) expect((await fetch(`${c.url}/api/v1/nodes`)).status).toBe(401);
    for (let i = 0; i < MAX_AUTH_FAILURES - 1; i++) expect((await getFrom(`${c.url}/api/v1/nodes`, 'nope')).status).toBe(401);
    expect((await getFrom(`${c.url}/api/v1/nodes`, TOKEN)).status).toBe(200);
    for (let i = 0; i < MAX_AUTH_FAILURES - 1; i++) expect((await getFrom(`${c.url}/api/v1/nodes`, 'nope')).status).toBe(401);
    expect((await getFrom(`${c.url}/api/v1/nodes`, TOKEN)).status).toBe(200);
  });
});
