import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Certificates this project makes itself (the only file importing @peculiar/x509): the demo's
// local CA and its site certificates, a node's self-signed TLS certificate (pinned by the
// balancer through its SPKI fingerprint), and test CAs.

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface PemPair {
  certPem: string;
  keyPem: string;
}

interface Issuer {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function pemOf(cert: x509.X509Certificate, keys: CryptoKeyPair): Promise<PemPair> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { certPem: cert.toString('pem') + '\n', keyPem };
}

const serial = (): string => randomBytes(16).toString('hex').replace(/^[89a-f]/, '1');

/** A certificate authority, e.g. the demo's local CA (trusted by whoever chooses to). */
export async function createCa(name: string, days: number, now = new Date()): Promise<PemPair> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: `CN=${name}`, notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + days * DAY_MS), keys, signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return pemOf(cert, keys);
}

async function loadIssuer(ca: PemPair): Promise<Issuer> {
  const cert = new x509.X509Certificate(ca.certPem);
  const der = Buffer.from(ca.keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign']);
  return { cert, keys: { privateKey, publicKey: await cert.publicKey.export(ALG, ['verify']) } };
}

/** A server certificate for these host names, signed by `ca`; the chain (leaf, then CA) in certPem. */
export async function issueServerCertificate(ca: PemPair, hosts: readonly string[], days: number, now = new Date()): Promise<PemPair> {
  const issuer = await loadIssuer(ca);
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(), subject: `CN=${hosts[0] ?? 'localhost'}`, issuer: issuer.cert.subject,
    notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + days * DAY_MS),
    publicKey: keys.publicKey, signingKey: issuer.keys.privateKey, signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(hosts.map((h) => (/^[\d.]+$|:/.test(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }))),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
    ],
  });
  const pair = await pemOf(cert, keys);
  return { certPem: pair.certPem + ca.certPem, keyPem: pair.keyPem };
}

/** A self-signed certificate (a node's TLS identity: the balancer pins its public key, not a CA). */
export async function selfSignedCertificate(name: string, days: number, now = new Date()): Promise<PemPair> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: `CN=${name}`, notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + days * DAY_MS), keys, signingAlgorithm: ALG,
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false)],
  });
  return pemOf(cert, keys);
}
