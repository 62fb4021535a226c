import { createHash, type X509Certificate } from 'node:crypto';
import type { LookupFunction, Socket } from 'node:net';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { buildConnector } from 'undici';
import { upstreamError } from './upstream-error.js';

// TLS to nodes, pinned: a node makes its own key and self-signed certificate and registers the
// key's fingerprint in a request signed with its Ed25519 identity (docs/node-protocol.md). We
// accept that key and nothing else, whoever signed the certificate: a relay on the way with any
// other certificate (a rogue ISP, a hotel Wi-Fi injecting content) is a connect failure, which
// counts against the node's availability and never its integrity. (Plain-HTTP nodes are refused
// at registration unless private node URLs are allowed: balancer/control/ssrf.ts.)

/** SHA-256 of the DER SubjectPublicKeyInfo, base64url: the registered fingerprint. */
export function spkiFingerprint(cert: X509Certificate): string {
  return createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

export interface NodeTlsOptions {
  lookup?: LookupFunction;
  /** The fingerprints registered for the node(s) at this URL origin. */
  pinsFor(origin: string): readonly string[];
}

function originOf(protocol: string, hostname: string, port: string): string {
  try {
    return new URL(`${protocol}//${hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname}:${port || (protocol === 'https:' ? '443' : '80')}`).origin;
  } catch {
    return '';
  }
}

/** Why this TLS connection is not the node's, or null when it presented a pinned key. */
export function pinProblem(socket: TLSSocket, pins: readonly string[]): string | null {
  if (pins.length === 0) return 'the node registered no TLS key';
  const cert = socket.getPeerX509Certificate();
  if (!cert) return 'the peer presented no certificate';
  const got = spkiFingerprint(cert);
  return pins.includes(got) ? null : `the peer's TLS key ${got} is not the one the node registered`;
}

/** undici's connector for node pools: resolves and checks names as before, then checks the pin. */
export function nodeConnector(o: NodeTlsOptions): buildConnector.connector {
  const base = buildConnector({ lookup: o.lookup, rejectUnauthorized: false, timeout: 10_000 } as buildConnector.BuildOptions);
  return (opts, cb) => {
    base(opts, (err, socket) => {
      if (err || opts.protocol !== 'https:' || !socket) return err ? cb(err, null) : cb(null, socket as Socket);
      const problem = pinProblem(socket as TLSSocket, o.pinsFor(originOf(opts.protocol, opts.hostname, opts.port)));
      if (problem === null) return cb(null, socket as Socket);
      socket.destroy();
      cb(upstreamError('reset', `TLS to node ${opts.hostname} refused: ${problem}`), null);
    });
  };
}

/** A health probe to a node over pinned TLS: status code, or throws. Fresh connection each time. */
export function probePinned(url: URL, pins: readonly string[], o: { timeoutMs: number; lookup?: LookupFunction }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'GET', agent: false, rejectUnauthorized: false, ...(o.lookup ? { lookup: o.lookup } : {}), headers: { 'user-agent': 'verity-balancer' } });
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${url.host} within ${o.timeoutMs} ms`)), o.timeoutMs);
    req.on('socket', (socket: TLSSocket) => {
      socket.once('secureConnect', () => {
        const problem = pinProblem(socket, pins);
        if (problem) req.destroy(new Error(problem));
      });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        clearTimeout(timer);
        resolve(res.statusCode ?? 0);
      });
    });
    req.end();
  });
}
