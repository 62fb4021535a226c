import type { DueDelivery } from '../../common/db/queries/notifications.js';
import { DELIVERY_HEADER, EVENT_HEADER, eventLine, SIGNATURE_HEADER, signatureHeader, webhookBody, type WebhookPayload } from '../../common/protocol/webhook.js';
import type { Mailer } from '../mail/smtp.js';

// One attempt at one delivery: a signed POST to a webhook, or an e-mail. Resolves with what
// happened; never throws (a failure is an outcome, retried later).

export interface SendOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

export interface SendDeps {
  now: () => number;
  mailer: Mailer | null;
  timeoutMs: number;
  /** Checked just before connecting to an owner's webhook (it must not reach private addresses). */
  checkUrl: (url: string) => Promise<string | null>;
}

export function payloadOf(d: DueDelivery): WebhookPayload {
  const e = d.event;
  return {
    id: e.id, event: e.kind, at: e.at.toISOString(), site: e.siteHost,
    node: e.nodeId ? { id: e.nodeId, name: e.nodeName ?? e.nodeId } : null, reason: e.reason,
  };
}

async function postWebhook(d: DueDelivery, deps: SendDeps): Promise<SendOutcome> {
  if (!d.url || !d.secret) return { ok: false, statusCode: null, error: 'the webhook was deleted' };
  const refused = d.ownerMade ? await deps.checkUrl(d.url) : null;
  if (refused) return { ok: false, statusCode: null, error: refused };
  const body = webhookBody(d.format ?? 'verity', payloadOf(d));
  const signature = signatureHeader(d.secret, Math.floor(deps.now() / 1000), body);
  try {
    const res = await fetch(d.url, {
      method: 'POST', body, redirect: 'manual', signal: AbortSignal.timeout(deps.timeoutMs),
      headers: { 'content-type': 'application/json', 'user-agent': 'Verity-Webhook/1', [SIGNATURE_HEADER]: signature, [EVENT_HEADER]: d.event.kind, [DELIVERY_HEADER]: d.id },
    });
    await res.body?.cancel().catch(() => undefined);
    // Only a 2xx is delivered: a redirect is not followed (it could point anywhere).
    return res.status >= 200 && res.status < 300 ? { ok: true, statusCode: res.status, error: null } : { ok: false, statusCode: res.status, error: `answered ${res.status}` };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, statusCode: null, error: cause?.code ?? cause?.message ?? (err as Error).message };
  }
}

async function sendEmail(d: DueDelivery, deps: SendDeps): Promise<SendOutcome> {
  if (!deps.mailer || !d.address) return { ok: false, statusCode: null, error: 'e-mail is not configured (VERITY_SMTP_URL)' };
  const p = payloadOf(d);
  const text = [
    eventLine(p), '', `event: ${p.event}`, `at: ${p.at}`, `site: ${p.site ?? '-'}`, `node: ${p.node ? `${p.node.name} (${p.node.id})` : '-'}`, `reason: ${p.reason}`, '',
    'The dashboard has the details (its delivery log lists every notification).',
  ].join('\n');
  try {
    await deps.mailer.send({ to: d.address, subject: eventLine(p).slice(0, 200), text });
    return { ok: true, statusCode: null, error: null };
  } catch (err) {
    return { ok: false, statusCode: null, error: (err as Error).message };
  }
}

export function sendDelivery(d: DueDelivery, deps: SendDeps): Promise<SendOutcome> {
  return d.channel === 'webhook' ? postWebhook(d, deps) : sendEmail(d, deps);
}
