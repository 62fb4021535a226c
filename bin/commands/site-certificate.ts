import { readFile } from 'node:fs/promises';
import type { Queryable } from '../../common/db/pool.js';
import { saveSiteCertificate, sealContext } from '../../common/db/queries/certificates.js';
import { VerityError } from '../../common/errors.js';
import { checkCertificate, type CertificateFacts } from '../../common/tls/certificate.js';
import { createSecretBox } from '../../common/tls/secret-box.js';

// `verity site add … --cert FILE --key FILE`: the owner's certificate, read and checked before
// anything is written (one clear error for a bad pair), its key sealed with the balancers'
// --tls-secret (docs/tls.md).

export interface OwnCertificate {
  certPem: string;
  facts: CertificateFacts;
  keySealed(siteId: string): string;
}

export async function readOwnCertificate(config: { host: string; cert?: string; key?: string; tlsSecret?: string }): Promise<OwnCertificate | null> {
  if (config.cert === undefined && config.key === undefined) return null;
  if (config.cert === undefined || config.key === undefined) throw new VerityError('CLI_ERR_USAGE', '--cert and --key go together');
  if (!config.tlsSecret) throw new VerityError('TLS_ERR_NO_SECRET', "the private key is stored sealed: give the balancers' --tls-secret (VERITY_TLS_SECRET)");
  const read = (file: string): Promise<string> => readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new VerityError('TLS_ERR_CERTIFICATE', `cannot read ${file}: ${err.code ?? err.message}`, { cause: err });
  });
  const [certPem, keyPem] = await Promise.all([read(config.cert), read(config.key)]);
  const facts = checkCertificate(certPem, keyPem, config.host.replace(/:\d+$/, ''), new Date());
  const box = createSecretBox(config.tlsSecret);
  return { certPem, facts, keySealed: (siteId) => box.seal(keyPem, sealContext(siteId)) };
}

export async function storeOwnCertificate(db: Queryable, siteId: string, c: OwnCertificate): Promise<void> {
  await saveSiteCertificate(db, { siteId, source: 'owner', certPem: c.certPem, keySealed: c.keySealed(siteId), facts: c.facts });
}
