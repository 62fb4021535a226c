import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { VerityError } from '../errors.js';

// Private keys at rest (site certificates, the ACME account, challenge certificates) are sealed
// with AES-256-GCM under a key derived from the operator's secret (--tls-secret), never stored in
// the clear. The row's identity is bound in as associated data, so a sealed key copied into
// another site's row does not open.

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretBox {
  seal(plain: string, context: string): string;
  /** Throws TLS_ERR_SEALED_KEY when the secret is wrong or the text was altered. */
  open(sealed: string, context: string): string;
}

export function createSecretBox(secret: string): SecretBox {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('verity-tls-secret'), Buffer.from('seal v1'), 32));
  return {
    seal(plain, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]).toString('base64');
    },
    open(sealed, context) {
      const raw = Buffer.from(sealed, 'base64');
      if (raw.length < 1 + IV_BYTES + TAG_BYTES || raw[0] !== VERSION) throw new VerityError('TLS_ERR_SEALED_KEY', 'a sealed key is malformed');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(1, 1 + IV_BYTES));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(raw.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
        return Buffer.concat([decipher.update(raw.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch (err) {
        throw new VerityError('TLS_ERR_SEALED_KEY', 'a sealed key does not open with this --tls-secret (another secret, or altered data)', { cause: err });
      }
    },
  };
}
