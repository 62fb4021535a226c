import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { createCa, issueServerCertificate } from '../../common/tls/x509.js';
import { freePort } from './ports.js';

// Let's Encrypt's test CA (Debian's `pebble`), on loopback, with its companion DNS server
// (`pebble-challtestsrv`) answering every name with 127.0.0.1: so the CA validates HTTP-01 and
// TLS-ALPN-01 challenges against our balancer's real ports. Its own HTTPS certificate comes from
// a CA made here (trusted by the ACME client through --acme-ca).

export const PEBBLE = '/usr/bin/pebble';
export const pebbleInstalled = (): boolean => existsSync(PEBBLE) && existsSync('/usr/bin/pebble-challtestsrv');

export interface Pebble {
  directoryUrl: string;
  /** Trust for the directory's own HTTPS (a file: --acme-ca). */
  caFile: string;
  caPem: string;
  /** The CA's root and intermediate (they change at every start). */
  root(): Promise<string>;
  intermediate(): Promise<string>;
  /** 'Valid' or 'Revoked', as the CA knows the certificate. */
  certStatus(serialHex: string): Promise<string>;
  close(): void;
}

export async function startPebble(o: { httpPort: number; tlsPort: number }): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), 'verity-pebble-'));
  const ca = await createCa('Pebble listener CA (test)', 2);
  const leaf = await issueServerCertificate(ca, ['127.0.0.1', 'localhost'], 1);
  const [acmePort, mgmtPort, dnsPort, dnsMgmtPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dir, 'cert.pem'), leaf.certPem);
  writeFileSync(join(dir, 'key.pem'), leaf.keyPem);
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  writeFileSync(join(dir, 'pebble.json'), JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${mgmtPort}`, certificate: join(dir, 'cert.pem'), privateKey: join(dir, 'key.pem'),
      httpPort: o.httpPort, tlsPort: o.tlsPort, ocspResponderURL: '', externalAccountBindingRequired: false,
    },
  }));
  const procs: ChildProcess[] = [];
  const dns = spawn('/usr/bin/pebble-challtestsrv', ['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${dnsMgmtPort}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''], { stdio: 'ignore' });
  procs.push(dns);
  const pebble = spawn(PEBBLE, ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`, '-strict=false'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
  });
  procs.push(pebble);
  let log = '';
  pebble.stdout?.on('data', (c: Buffer) => (log += c.toString()));
  pebble.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  const agent = new Agent({ connect: { ca: ca.certPem } });
  const get = async (url: string): Promise<string> => {
    const r = await request(url, { dispatcher: agent });
    return r.body.text();
  };
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  const until = Date.now() + 15_000;
  for (;;) {
    try {
      await get(directoryUrl);
      break;
    } catch {
      if (Date.now() > until || pebble.exitCode !== null) throw new Error(`pebble did not start: ${log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const mgmt = `https://127.0.0.1:${mgmtPort}`;
  return {
    directoryUrl, caFile: join(dir, 'ca.pem'), caPem: ca.certPem,
    root: () => get(`${mgmt}/roots/0`),
    intermediate: () => get(`${mgmt}/intermediates/0`),
    certStatus: async (serial) => (JSON.parse(await get(`${mgmt}/cert-status-by-serial/${serial.replace(/^0+/, '')}`)) as { Status: string }).Status,
    close: () => {
      for (const p of procs) p.kill('SIGKILL');
      void agent.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
