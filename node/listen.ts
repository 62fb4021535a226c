import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';


export function urlOf(host: string, port: number): string {
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

/** The default public URL: the listen address, or this machine's first outside IPv4 when listening on all. */
export function defaultPublicUrl(bound: AddressInfo): string {
  if (bound.address !== '0.0.0.0' && bound.address !== '::') return urlOf(bound.address, bound.port);
  for (const list of Object.values(networkInterfaces())) {
    const v4 = list?.find((i) => i.family === 'IPv4' && !i.internal);
    if (v4) return urlOf(v4.address, bound.port);
  }
  return urlOf('127.0.0.1', bound.port);
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
