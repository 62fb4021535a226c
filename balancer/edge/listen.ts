import type { Server } from 'node:net';
import type { ListenAddress } from '../../common/config/shared.js';

// Binding the balancer's ports, and the URL a bound port is reached at (port 0 → the free port
// the system chose).

export function urlOf(address: string | null | { address: string; port: number } | undefined, scheme = 'http'): string {
  if (!address || typeof address === 'string') return String(address);
  return address.address.includes(':') ? `${scheme}://[${address.address}]:${address.port}` : `${scheme}://${address.address}:${address.port}`;
}

/** Listens, or rejects with the bind error (a busy port, say). */
export function listenOn(server: Server, addr: ListenAddress): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
