import { lookup as dnsLookup } from 'node:dns';
import { isIPv6, type LookupFunction } from 'node:net';
import type { Logger } from '../../common/log.js';
import { forbiddenAddressReason } from '../control/ssrf.js';
import { upstreamError } from './upstream-error.js';

// A node's URL was checked when it registered (balancer/control/ssrf.ts), but a name can be
// made to resolve elsewhere later (DNS rebinding: public at registration, 127.0.0.1 or
// 169.254.169.254 now). So the address is checked again where it is used: in the lookup of the
// connection to the node. A refused lookup fails the attempt like a connect error (another
// node or the origin serves the visitor). Literal IPs never reach a lookup; they were checked
// at registration and cannot change without registering again.

/** Name → addresses (A and AAAA); injected in tests. */
export type ResolveHost = (host: string) => Promise<string[]>;

export const defaultResolveHost: ResolveHost = (host) => new Promise((resolve, reject) => {
  dnsLookup(host, { all: true, verbatim: true }, (err, answers) => (err ? reject(err) : resolve(answers.map((a) => a.address))));
});

export interface NodeLookupOptions {
  resolve: ResolveHost;
  /** false (VERITY_ALLOW_PRIVATE_NODE_URLS unset): forbidden addresses are refused. */
  allowPrivate: boolean;
  log: Logger;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void;

/** An http.Agent `lookup` for connections to nodes. */
export function nodeLookup(o: NodeLookupOptions): LookupFunction {
  const lookup = (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    o.resolve(hostname).then((addresses) => {
      if (addresses.length === 0) throw upstreamError('reset', `${hostname} does not resolve`);
      if (!o.allowPrivate) {
        for (const address of addresses) {
          const why = forbiddenAddressReason(address);
          if (!why) continue;
          o.log.warn({ node: { host: hostname, address, reason: why } }, 'refused to connect to a node: its name resolves to a forbidden address');
          throw upstreamError('reset', `refused to connect to ${hostname}: ${why}`);
        }
      }
      const answers = addresses.map((address) => ({ address, family: isIPv6(address) ? 6 : 4 }));
      const first = answers[0] as { address: string; family: number };
      if (options.all) callback(null, answers);
      else callback(null, first.address, first.family);
    }).catch((err: unknown) => callback(err as NodeJS.ErrnoException, ''));
  };
  return lookup as unknown as LookupFunction;
}
