import { createServer, type AddressInfo, type Server } from 'node:net';
import { formatListenAddress, type ListenAddress } from './config/shared.js';
import { VerityError } from './errors.js';

// Every program's listeners fail the same way, in one line that names the port, what was to
// listen there and the flag that moves it: "port 8080 on 0.0.0.0 is already in use (the
// public proxy): choose another --listen".

/** What a listener is for and the flag that sets its address. */
export interface ListenerRole {
  /** e.g. "the node's status page" */
  what: string;
  /** e.g. "--status-listen" */
  flag: string;
}

export function listenProblem(err: unknown, addr: ListenAddress, role: ListenerRole): VerityError {
  const code = (err as { code?: unknown } | null)?.code;
  const where = `port ${addr.port} on ${addr.host}`;
  const why =
    code === 'EADDRINUSE' ? `${where} is already in use`
      : code === 'EACCES' ? `${where} needs privileges this user lacks`
        : code === 'EADDRNOTAVAIL' ? `${addr.host} is not an address of this machine`
          : `cannot listen on ${formatListenAddress(addr)}: ${(err as Error | null)?.message ?? String(err)}`;
  return new VerityError('CLI_ERR_LISTEN', `${why} (${role.what}): choose another ${role.flag}`, { cause: err });
}

/** Listens on `addr`; a failure is one listenProblem. */
export function listenOn(server: Server, addr: ListenAddress, role: ListenerRole): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(listenProblem(err, addr, role));
    server.once('error', onError);
    server.listen(addr.port, addr.host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Tries `addr` and lets it go again: for a program whose listener is opened later by other
 * processes (the balancer's workers), so that a taken port is one listenProblem up front.
 */
export async function probeListen(addr: ListenAddress, role: ListenerRole): Promise<void> {
  const server = createServer();
  await listenOn(server, addr, role);
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
