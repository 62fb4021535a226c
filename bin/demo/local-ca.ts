import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Queryable } from '../../common/db/pool.js';
import { saveSiteCertificate, sealContext } from '../../common/db/queries/certificates.js';
import { factsOf, leafOf } from '../../common/tls/certificate.js';
import { createSecretBox } from '../../common/tls/secret-box.js';
import { createCa, issueServerCertificate } from '../../common/tls/x509.js';

// The demo serves HTTPS too, with a certificate from a CA of its own, made at every start (no
// public CA can vouch for demo.localhost). Its certificate is written out so a person can choose
// to trust it (a browser's authorities, curl --cacert); its key never leaves this process.

export interface DemoCa {
  caFile: string;
}

export async function setUpDemoHttps(db: Queryable, dir: string, site: { id: string; host: string }, tlsSecret: string): Promise<DemoCa> {
  const ca = await createCa('Verity demo local CA (trust only on this machine)', 30);
  const leaf = await issueServerCertificate(ca, [site.host, '127.0.0.1'], 30);
  mkdirSync(dir, { recursive: true });
  const caFile = join(dir, 'demo-ca.pem');
  writeFileSync(caFile, ca.certPem);
  await saveSiteCertificate(db, {
    siteId: site.id, source: 'owner', certPem: leaf.certPem, keySealed: createSecretBox(tlsSecret).seal(leaf.keyPem, sealContext(site.id)), facts: factsOf(leafOf(leaf.certPem)),
  });
  return { caFile };
}

/** What the demo prints about HTTPS. */
export function httpsLines(host: string, port: number, caFile: string): string[] {
  return [
    `https: https://${host}:${port}/`,
    `  (HTTP/2; its certificate comes from the demo's own CA, ${caFile}: trust that file in a browser's authorities, or curl --cacert ${caFile})`,
  ];
}
