import { connect as h2connect, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { createCa, issueServerCertificate, type PemPair } from '../../common/tls/x509.js';
import type { Queryable } from '../../common/db/pool.js';
import { saveSiteCertificate, sealContext } from '../../common/db/queries/certificates.js';
import { checkCertificate } from '../../common/tls/certificate.js';
import { createSecretBox } from '../../common/tls/secret-box.js';
import { insertTestSite } from './balancer-harness.js';

// TLS fixtures: a test CA, site certificates written to files (as an owner would have them),
// and clients for HTTPS over HTTP/2 and HTTP/1.1 that trust that CA and send a chosen SNI.

export const testTlsSecret = 'test-tls-secret-0123456789abcdef0123456789';

export interface TestCa extends PemPair {
  /** A certificate for these hosts, written to files: { certFile, keyFile, ...pems }. */
  issue(hosts: string[], days?: number): Promise<PemPair & { certFile: string; keyFile: string }>;
  /** Removes the files `issue` wrote (call it after the file's tests). */
  close(): void;
}

export async function makeTestCa(name = 'Verity Test CA'): Promise<TestCa> {
  const ca = await createCa(name, 30);
  const dir = mkdtempSync(join(tmpdir(), 'verity-tls-'));
  let n = 0;
  return {
    ...ca,
    async issue(hosts, days = 10) {
      const pair = await issueServerCertificate(ca, hosts, days);
      const certFile = join(dir, `cert-${n}.pem`);
      const keyFile = join(dir, `key-${n++}.pem`);
      writeFileSync(certFile, pair.certPem);
      writeFileSync(keyFile, pair.keyPem);
      return { ...pair, certFile, keyFile };
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  protocol: string;
}

/** One HTTP/2 request on a fresh session (SNI and :authority = host unless told otherwise). */
export function h2Request(url: string, path: string, o: { host: string; ca: string; sni?: string; method?: string; headers?: OutgoingHttpHeaders; body?: string | Buffer; endStream?: boolean }): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const session = h2connect(url, { ca: o.ca, servername: o.sni ?? o.host });
    session.on('error', reject);
    const req = session.request({ ':method': o.method ?? 'GET', ':path': path, ':authority': o.host, ...o.headers }, { endStream: o.endStream ?? o.body === undefined });
    const chunks: Buffer[] = [];
    let headers: IncomingHttpHeaders = {};
    req.on('response', (h) => (headers = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', (err) => {
      session.destroy();
      reject(err);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      session.close();
      resolve({ status: Number(headers[':status']), headers, body, text: body.toString('utf8'), protocol: 'h2' });
    });
    if (o.body !== undefined) req.end(o.body);
  });
}

/** One HTTPS request over HTTP/1.1 (ALPN http/1.1). */
export function h1sRequest(url: string, path: string, o: { host: string; ca: string; method?: string; headers?: Record<string, string>; body?: string }): Promise<TlsAnswer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const options = { hostname: u.hostname, port: u.port, path, method: o.method ?? 'GET', servername: o.host, ca: o.ca, agent: false, ALPNProtocols: ['http/1.1'], headers: { host: o.host, ...o.headers } };
    const req = httpsRequest(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8'), protocol: 'http/1.1' });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** The handshake alone: the certificate presented for this SNI (or the error). */
export function handshake(url: string, sni: string, o: { ca?: string; alpn?: string[] } = {}): Promise<{ cert: PeerCertificate; alpn: string | false | null } | { error: string }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: u.hostname, port: Number(u.port), servername: sni, ca: o.ca, rejectUnauthorized: false, ALPNProtocols: o.alpn ?? ['h2', 'http/1.1'] }, () => {
      resolve({ cert: socket.getPeerCertificate(), alpn: socket.alpnProtocol });
      socket.end();
    });
    socket.on('error', (err) => resolve({ error: err.message }));
  });
}

/** A site row with a certificate from `ca`, as `verity site add --cert --key` leaves them. */
export async function insertSiteWithCertificate(db: Queryable, ca: TestCa, site: { host: string; origin: string }): Promise<string> {
  const siteId = await insertTestSite(db, site);
  const pair = await ca.issue([site.host]);
  const facts = checkCertificate(pair.certPem, pair.keyPem, site.host, new Date());
  await saveSiteCertificate(db, { siteId, source: 'owner', certPem: pair.certPem, keySealed: createSecretBox(testTlsSecret).seal(pair.keyPem, sealContext(siteId)), facts });
  return siteId;
}
