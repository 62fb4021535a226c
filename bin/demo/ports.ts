import { createServer } from 'node:net';
import { VerityError } from '../../common/errors.js';

function tryListen(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen(port, host, () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : null;
      srv.close(() => resolve(got));
    });
  });
}

/**
 * `count` ports on 127.0.0.1: consecutive from `base` when given (a taken one is an error
 * naming it), else free ones picked by the kernel.
 */
export async function allocatePorts(count: number, base?: number, host = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    if (base !== undefined) {
      const port = base + i;
      if ((await tryListen(port, host)) === null) {
        throw new VerityError('CLI_ERR_USAGE', `port ${port} on ${host} is taken: choose another --base-port or leave it out to pick free ports`);
      }
      ports.push(port);
    } else {
      let port: number | null = null;
      while (port === null || ports.includes(port)) port = await tryListen(0, host);
      ports.push(port);
    }
  }
  return ports;
}

/**
 * The demo's ports: the block at `base` when given, else the ones of the last run when all of
 * them are free again (so its URLs stay the same), else free ones.
 */
export async function choosePorts(count: number, base: number | undefined, saved: number[], host = '127.0.0.1'): Promise<number[]> {
  if (base !== undefined) return allocatePorts(count, base, host);
  if (saved.length === count) {
    const free = await Promise.all(saved.map((p) => tryListen(p, host)));
    if (free.every((p, i) => p === saved[i])) return saved;
  }
  return allocatePorts(count, undefined, host);
}
