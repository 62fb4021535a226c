import type { FastifyReply } from 'fastify';
import type { EvidenceBlob } from '../../common/db/queries/dashboard.js';

// Evidence is attacker-controlled content (a rogue node chose those bytes): it is served with
// a type from a short allow-list, never sniffed, and sandboxed so nothing in it can run.

const inlineTypes: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'application/json': 'json',
};

export const EVIDENCE_CSP = "sandbox; default-src 'none'; img-src 'self'";

export function safeEvidenceType(contentType: string): { type: string; ext: string; inline: boolean } {
  const base = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const ext = inlineTypes[base];
  if (ext === 'json') return { type: 'application/json; charset=utf-8', ext, inline: true };
  if (ext) return { type: base, ext, inline: true };
  if (base.startsWith('text/')) return { type: 'text/plain; charset=utf-8', ext: 'txt', inline: false };
  return { type: 'application/octet-stream', ext: 'bin', inline: false };
}

export function sendEvidence(reply: FastifyReply, blob: EvidenceBlob): FastifyReply {
  const { type, ext, inline } = safeEvidenceType(blob.contentType);
  const kind = blob.kind.replace(/[^a-z0-9_-]/gi, '') || 'evidence';
  return reply
    .header('content-type', type)
    .header('content-disposition', `${inline ? 'inline' : 'attachment'}; filename="${kind}-${blob.id}.${ext}"`)
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', EVIDENCE_CSP)
    .header('cross-origin-resource-policy', 'same-origin')
    .header('cache-control', 'private, max-age=300')
    .send(blob.body);
}
