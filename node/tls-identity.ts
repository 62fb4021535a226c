import { X509Certificate, createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { selfSignedCertificate } from '../common/tls/x509.js';

// The node's TLS identity: a key and a self-signed certificate of its own, made at enrollment
// and kept in the data dir. No CA vouches for it: the balancer pins the key itself, registered
// in requests the node signs with its Ed25519 identity (docs/node-protocol.md), so a relay on
// the way, with any other certificate, cannot pass for this node. A certificate within 30 days
// of its end is replaced at start; the new key is registered then.

export const TLS_KEY_FILE = 'tls-key.pem';
export const TLS_CERT_FILE = 'tls-cert.pem';
const RENEW_BEFORE_MS = 30 * 86_400_000;

export interface TlsIdentity {
  keyPem: string;
  certPem: string;
  /** SHA-256 of the certificate's SubjectPublicKeyInfo, base64url: what the balancer pins. */
  spki: string;
  created: boolean;
}

export function spkiOf(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

async function stored(dataDir: string, now: Date): Promise<TlsIdentity | null> {
  try {
    const [keyPem, certPem] = await Promise.all([readFile(join(dataDir, TLS_KEY_FILE), 'utf8'), readFile(join(dataDir, TLS_CERT_FILE), 'utf8')]);
    if (new Date(new X509Certificate(certPem).validTo).getTime() - now.getTime() < RENEW_BEFORE_MS) return null;
    return { keyPem, certPem, spki: spkiOf(certPem), created: false };
  } catch {
    return null;
  }
}

export async function loadOrCreateTlsIdentity(dataDir: string, name: string, now = new Date()): Promise<TlsIdentity> {
  const kept = await stored(dataDir, now);
  if (kept) return kept;
  const pair = await selfSignedCertificate(`verity node ${name}`, 365, now);
  for (const [file, text, mode] of [[TLS_KEY_FILE, pair.keyPem, 0o600], [TLS_CERT_FILE, pair.certPem, 0o644]] as const) {
    await writeFile(join(dataDir, `${file}.tmp`), text, { mode });
    await rename(join(dataDir, `${file}.tmp`), join(dataDir, file));
  }
  return { keyPem: pair.keyPem, certPem: pair.certPem, spki: spkiOf(pair.certPem), created: true };
}
