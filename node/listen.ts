import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';


export function urlOf(host: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  return host.includes(':') ? `${scheme}://[${host}]:${port}` : `${scheme}://${host}:${port}`;
}

/** The default public URL: the listen address, or this machine's first outside IPv4 when listening on all. */
export function defaultPublicUrl(bound: AddressInfo, scheme: 'http' | 'https'): string {
  if (bound.address !== '0.0.0.0' && bound.address !== '::') return urlOf(bound.address, bound.port, scheme);
  for (const list of Object.values(networkInterfaces())) {
    const v4 = list?.find((i) => i.family === 'IPv4' && !i.internal);
    if (v4) return urlOf(v4.address, bound.port, scheme);
  }
  return urlOf('127.0.0.1', bound.port, scheme);
}

/** Stops accepting, lets in-flight requests finish, and cuts what is left at the deadline. */
export function closeGracefully(server: Server, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
