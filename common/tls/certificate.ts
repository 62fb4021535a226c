import { createPrivateKey, X509Certificate } from 'node:crypto';
import { VerityError } from '../errors.js';

// What we need to know of a PEM certificate chain and its key before storing or serving it: that
// it parses, that the key is the certificate's, that it names the host, and its lifetime.

export interface CertificateFacts {
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

/** The leaf (first certificate of the chain). */
export function leafOf(chainPem: string): X509Certificate {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(chainPem);
  if (!m) throw new VerityError('TLS_ERR_CERTIFICATE', 'no PEM certificate found (expected -----BEGIN CERTIFICATE-----)');
  try {
    return new X509Certificate(m[0]);
  } catch (err) {
    throw new VerityError('TLS_ERR_CERTIFICATE', `the certificate does not parse: ${(err as Error).message}`, { cause: err });
  }
}

export function factsOf(cert: X509Certificate): CertificateFacts {
  return { serial: cert.serialNumber.toLowerCase(), notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

/** Checks an owner's certificate for `host`; returns its facts or throws one clear error. */
export function checkCertificate(chainPem: string, keyPem: string, host: string, now: Date): CertificateFacts {
  const leaf = leafOf(chainPem);
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new VerityError('TLS_ERR_CERTIFICATE', `the private key does not parse: ${(err as Error).message}`, { cause: err });
  }
  if (!leaf.checkPrivateKey(key)) throw new VerityError('TLS_ERR_CERTIFICATE', 'the private key is not the key of this certificate');
  if (leaf.checkHost(host) === undefined) throw new VerityError('TLS_ERR_CERTIFICATE', `the certificate does not name ${host} (subject ${leaf.subject.replace(/\n/g, ', ')}; ${leaf.subjectAltName ?? 'no alternative names'})`);
  const facts = factsOf(leaf);
  if (facts.notAfter.getTime() <= now.getTime()) throw new VerityError('TLS_ERR_CERTIFICATE', `the certificate expired on ${facts.notAfter.toISOString()}`);
  return facts;
}
