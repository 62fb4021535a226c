import { createHmac, timingSafeEqual } from 'node:crypto';

// What a webhook receiver gets (docs/notifications.md): a JSON body and the header
// `Verity-Signature: t=UNIX,v1=HEX`, HEX = HMAC-SHA256(secret, "UNIX.BODY"), as Stripe signs.
// The timestamp is inside the signature, so an old delivery cannot be replayed as new.

export const SIGNATURE_HEADER = 'verity-signature';
export const EVENT_HEADER = 'verity-event';
export const DELIVERY_HEADER = 'verity-delivery';

export interface WebhookPayload {
  /** The event id: the same for every receiver and every retry (deduplicate on it). */
  id: string;
  event: string;
  at: string;
  site: string | null;
  node: { id: string; name: string } | null;
  reason: string;
}

export function signatureHeader(secret: string, unixSeconds: number, body: string): string {
  const hex = createHmac('sha256', secret).update(`${unixSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${unixSeconds},v1=${hex}`;
}

/** For receivers: is `header` a signature of `body` made with `secret` within `toleranceS` of `nowS`? */
export function verifySignature(secret: string, header: string, body: string, nowS: number, toleranceS = 300): boolean {
  const parts = new Map(header.split(',').map((p) => {
    const eq = p.indexOf('=');
    return [p.slice(0, eq).trim(), p.slice(eq + 1).trim()] as const;
  }));
  const t = Number(parts.get('t'));
  const given = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS || !/^[0-9a-f]{64}$/.test(given)) return false;
  const expected = signatureHeader(secret, t, body).slice(`t=${t},v1=`.length);
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(expected, 'hex'));
}

/** One line a person reads (chat messages, e-mail subjects). */
export function eventLine(p: WebhookPayload): string {
  const who = p.node ? ` node ${p.node.name} (${p.node.id.slice(0, 8)})` : '';
  const where = p.site ? ` on ${p.site}` : '';
  return `[Verity] ${p.event}${who}${where}: ${p.reason}`;
}

/** The body for a webhook of this format: ours, or `{text}` that Slack and Matrix (hookshot) webhooks accept. */
export function webhookBody(format: 'verity' | 'slack', p: WebhookPayload): string {
  return format === 'slack' ? JSON.stringify({ text: eventLine(p) }) : JSON.stringify(p);
}
