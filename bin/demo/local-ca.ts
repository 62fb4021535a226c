import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Queryable } from '../../common/db/pool.js';
import { saveSiteCertificate, sealContext } from '../../common/db/queries/certificates.js';
import { factsOf, leafOf } from '../../common/tls/certificate.js';
import { createSecretBox } from '../../common/tls/secret-box.js';
import { createCa, issueServerCertificate, type PemPair } from '../../common/tls/x509.js';

// The demo serves HTTPS too, with a certificate from a CA of its own (no public CA can vouch for
// demo.localhost). The CA is made on the first run and kept in the demo's folder with its state
// (`--fresh` throws it away), so a person who chose to trust it (a browser's authorities,
// curl --cacert) keeps trusting it; its key is readable by this user only. The site's
// certificate is issued anew at every start, sealed with that run's secret.

export interface DemoCa {
  caFile: string;
}

function demoCa(dir: string): Promise<PemPair> {
  const certFile = join(dir, 'demo-ca.pem');
  const keyFile = join(dir, 'demo-ca.key');
  if (existsSync(certFile) && existsSync(keyFile)) return Promise.resolve({ certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') });
  return createCa('Verity demo local CA (trust only on this machine)', 825).then((ca) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(keyFile, ca.keyPem, { mode: 0o600 });
    writeFileSync(certFile, ca.certPem);
    return ca;
  });
}

export async function setUpDemoHttps(db: Queryable, dir: string, site: { id: string; host: string }, tlsSecret: string): Promise<DemoCa> {
  const ca = await demoCa(dir);
  const leaf = await issueServerCertificate(ca, [site.host, '127.0.0.1'], 30);
  await saveSiteCertificate(db, {
    siteId: site.id, source: 'owner', certPem: leaf.certPem, keySealed: createSecretBox(tlsSecret).seal(leaf.keyPem, sealContext(site.id)), facts: factsOf(leafOf(leaf.certPem)),
  });
  return { caFile: join(dir, 'demo-ca.pem') };
}

/** What the demo prints about HTTPS. */
export function httpsLines(host: string, port: number, caFile: string): string[] {
  return [
    `https: https://${host}:${port}/`,
    `  (HTTP/2; its certificate comes from the demo's own CA, ${caFile}: trust that file in a browser's authorities, or curl --cacert ${caFile})`,
  ];
}
