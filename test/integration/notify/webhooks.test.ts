import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApiPlugin } from '../../../balancer/control/admin-api.js';
import { dashboardPlugin } from '../../../dashboards/plugin.js';
import { startNotifier } from '../../../balancer/notify/worker.js';
import { createUser } from '../../../common/db/queries/users.js';
import { silentLogger } from '../../../common/log.js';
import { SIGNATURE_HEADER, verifySignature, type WebhookPayload } from '../../../common/protocol/webhook.js';
import { insertTestNode, insertTestSite, startBalancer, waitFor, type StartedBalancer } from '../../support/balancer-harness.js';
import { runCli } from '../../support/cli.js';
import { useTestDatabase } from '../../support/db.js';

// Notifications against real receivers: an HTTP server on loopback that checks the signature, one
// that is down (connection refused) for a while, and an SMTP server written for the test with
// smtp-server. The balancer's notifier polls its PostgreSQL outbox as in production.

const db = useTestDatabase({ truncate: false });
let bal: StartedBalancer;
let receiver: Receiver;
let smtp: { server: SMTPServer; port: number; mails: { to: string; text: string }[] };
let siteId: string;
let nodeId: string;
let otherNodeId: string;

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  url: string;
  port: number;
  got: Received[];
  server: Server;
  close(): Promise<void>;
}

function startReceiver(port = 0): Promise<Receiver> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      got.push({ at: Date.now(), headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => {
    const p = (server.address() as AddressInfo).port;
    resolve({ url: `http://127.0.0.1:${p}/hook`, port: p, got, server, close: () => new Promise((r) => server.close(() => r())) });
  }));
}

function startSmtpSink(): Promise<typeof smtp> {
  const mails: { to: string; text: string }[] = [];
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
    onData(stream, session, callback) {
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (text += c));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), text });
        callback();
      });
    },
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.server.address() as AddressInfo).port, mails })));
}

async function api(path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${bal.controlUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${bal.adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

beforeAll(async () => {
  receiver = await startReceiver();
  smtp = await startSmtpSink();
  siteId = await insertTestSite(db.pool, { host: 'notify.test', origin: 'http://127.0.0.1:9' });
  nodeId = await insertTestNode(db.pool, { url: 'http://127.0.0.1:9', siteIds: [siteId], name: 'attic-box' });
  otherNodeId = await insertTestNode(db.pool, { url: 'http://127.0.0.1:9', siteIds: [siteId], name: 'cellar-box' });
  await createUser(db.pool, { email: 'ops@example.org', role: 'admin', siteIds: [], createdBy: 'test' });
  bal = await startBalancer({
    pool: db.pool, plugins: [adminApiPlugin, dashboardPlugin], config: { smtpUrl: `smtp://127.0.0.1:${smtp.port}`, smtpFrom: 'verity@example.org' },
    // The notifier polls its outbox at the production interval; only the retry backoff is shortened.
    deps: { background: { notify: true }, notifier: { retryBaseMs: 400, retryMaxMs: 800 } },
  });
});
afterAll(async () => {
  await bal?.close();
  await receiver?.close();
  await new Promise<void>((r) => smtp.server.close(() => r()));
});

describe('notifications', () => {
  it('a quarantine reaches a signed webhook within 5 s and an e-mail reaches the SMTP sink', async () => {
    const added = await runCli(['webhook', 'add', '--url', receiver.url, '--site', 'notify.test'], { DATABASE_URL: db.url });
    expect(added.code, added.stderr).toBe(0);
    const secret = /secret: (whsec_\S+)/.exec(added.stdout)?.[1] ?? '';
    expect(/webhook: ([0-9a-f-]{36})/.test(added.stdout)).toBe(true);

    const t0 = Date.now();
    expect((await api(`/api/v1/nodes/${nodeId}/actions`, { action: 'quarantine', reason: 'ads injected on /checkout' })).status).toBe(200);
    const hit = await waitFor(() => receiver.got.find((r) => r.body.includes('node.quarantined')), 5_000);
    expect(hit.at - t0).toBeLessThan(5_000);
    expect(verifySignature(secret, String(hit.headers[SIGNATURE_HEADER]), hit.body, Math.floor(Date.now() / 1000))).toBe(true);
    expect(verifySignature('whsec_wrong', String(hit.headers[SIGNATURE_HEADER]), hit.body, Math.floor(Date.now() / 1000))).toBe(false);
    // What a receiver computes from the documented formula: HMAC-SHA256(secret, "UNIX.BODY").
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(hit.headers[SIGNATURE_HEADER])) ?? [];
    expect(v1).toBe(createHmac('sha256', secret).update(`${t ?? ''}.${hit.body}`).digest('hex'));
    expect(Math.abs(Number(t) - hit.at / 1000)).toBeLessThan(5);
    // The timestamp is signed: the same delivery replayed ten minutes on is refused.
    expect(verifySignature(secret, String(hit.headers[SIGNATURE_HEADER]), hit.body, Math.floor(Date.now() / 1000) + 600)).toBe(false);
    const payload = JSON.parse(hit.body) as WebhookPayload;
    expect(payload).toMatchObject({ event: 'node.quarantined', site: 'notify.test', node: { id: nodeId, name: 'attic-box' }, reason: 'ads injected on /checkout' });
    expect(Date.parse(payload.at)).toBeGreaterThan(t0 - 1000);

    const mail = await waitFor(() => smtp.mails.find((m) => m.text.includes('node.quarantined')), 5_000);
    expect(mail.to).toBe('ops@example.org');
    expect(mail.text).toContain('attic-box');
  });

  it('retries with backoff while the receiver is down, and the delivery log shows each attempt', async () => {
    // A port with nothing listening: connections are refused until the receiver comes up.
    const probe = await startReceiver();
    const port = probe.port;
    await probe.close();
    const created = await api('/api/v1/webhooks', { url: `http://127.0.0.1:${port}/hook` });
    expect(created.status).toBe(201);
    const { id, secret } = created.json as { id: string; secret: string };
    // A second balancer's notifier on the same database, racing the first for every delivery.
    const second = startNotifier({ pool: db.pool, log: silentLogger(), now: Date.now, mailer: null, checkUrl: async () => null }, { pollMs: 100, retryBaseMs: 400, retryMaxMs: 800 });
    expect((await api(`/api/v1/nodes/${otherNodeId}/actions`, { action: 'ban', reason: 'proven tampering' })).status).toBe(200);
    const failing = await waitFor(async () => {
      const log = (await api(`/api/v1/deliveries?webhook=${id}`)).json as { event: string; attempts: { ok: boolean; error: string | null }[] }[];
      const d = log.find((x) => x.event === 'node.banned');
      return d && d.attempts.length >= 2 ? d : null;
    }, 10_000);
    expect(failing.attempts.every((a) => !a.ok && a.error === 'ECONNREFUSED')).toBe(true);
    const late = await startReceiver(port);
    try {
      const hit = await waitFor(() => late.got.find((r) => r.body.includes('node.banned')), 10_000);
      expect(verifySignature(secret, String(hit.headers[SIGNATURE_HEADER]), hit.body, Math.floor(Date.now() / 1000))).toBe(true);
      const log = (await api(`/api/v1/deliveries?webhook=${id}`)).json as { event: string; status: string; attempts: { ok: boolean; at: string }[] }[];
      const d = log.find((x) => x.event === 'node.banned');
      expect(d?.status).toBe('delivered');
      const attempts = d?.attempts ?? [];
      expect(attempts.at(-1)?.ok).toBe(true);
      // Backoff: each wait at least as long as the one before it.
      const gaps = attempts.slice(1).map((a, i) => Date.parse(a.at) - Date.parse(attempts[i]?.at ?? a.at));
      expect(gaps[0]).toBeGreaterThanOrEqual(350);
      // The dashboard's delivery log shows the same: the refused attempts, then the one that worked.
      const html = await (await fetch(`${bal.controlUrl}/notifications`, { headers: { authorization: `Bearer ${bal.adminToken}` } })).text();
      const row = [...html.matchAll(/<tr data-delivery="\d+" data-status="delivered"><td class="mono">node\.banned.*?<\/tr>/gs)].map((m) => m[0]).find((r) => r.includes(`http://127.0.0.1:${port}/hook`)) ?? '';
      expect(row.match(/ECONNREFUSED/g)?.length).toBe(attempts.length - 1);
      expect(row).toMatch(/ok 204/);
      // Several balancers share the outbox: exactly one delivery reached the receiver.
      await new Promise((r) => setTimeout(r, 500));
      expect(late.got.filter((r) => r.body.includes('node.banned'))).toHaveLength(1);
    } finally {
      await second.stop();
      await late.close();
    }
  });

  it('"send test" delivers a test event to that webhook only; bad input is one clear error', async () => {
    const hooks = (await api('/api/v1/webhooks')).json as { id: string; site: string | null }[];
    const siteHook = hooks.find((h) => h.site === 'notify.test');
    expect((await api(`/api/v1/webhooks/${siteHook?.id ?? ''}/test`, {})).status).toBe(202);
    const hit = await waitFor(() => receiver.got.find((r) => r.headers['verity-event'] === 'test'), 5_000);
    expect(JSON.parse(hit.body)).toMatchObject({ event: 'test', site: 'notify.test' });
    // The Slack/Matrix format: {text}, signed the same way.
    const chat = (await api('/api/v1/webhooks', { url: `${receiver.url}?chat`, site: 'notify.test', format: 'slack' })).json as { id: string; secret: string };
    expect((await api(`/api/v1/webhooks/${chat.id}/test`, {})).status).toBe(202);
    const said = await waitFor(() => receiver.got.find((r) => r.headers['verity-delivery'] !== hit.headers['verity-delivery'] && r.headers['verity-event'] === 'test'), 5_000);
    expect(JSON.parse(said.body)).toEqual({ text: '[Verity] test on notify.test: test sent by admin token' });
    expect(verifySignature(chat.secret, String(said.headers[SIGNATURE_HEADER]), said.body, Math.floor(Date.now() / 1000))).toBe(true);
    expect((await api('/api/v1/webhooks', { url: 'ftp://x' })).status).toBe(400);
    expect((await api('/api/v1/webhooks', { url: receiver.url, site: 'nope.test' })).status).toBe(404);
    const bad = await runCli(['webhook', 'add', '--url', 'not a url'], { DATABASE_URL: db.url });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});
