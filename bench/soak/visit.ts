import { request, type Agent } from 'node:http';

// One visitor request over a keep-alive agent, reduced to what the soak counts. Never rejects.

export type VisitResult =
  | { kind: 'response'; status: number; servedBy: string; body: Buffer; shuttingDown: boolean }
  /** The connection was refused: nothing reached any server. */
  | { kind: 'refused' }
  /** A reused keep-alive connection closed before any response byte (the server closed it as we sent). */
  | { kind: 'stale-connection' }
  /** Sent, then the connection failed, or the body was cut short. */
  | { kind: 'lost'; error: string }
  /** No complete answer within the per-request timeout. */
  | { kind: 'hung' };

export interface VisitOptions {
  baseUrl: string;
  host: string;
  path: string;
  agent: Agent;
  timeoutMs: number;
}

export function visit(o: VisitOptions): Promise<VisitResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: VisitResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const url = new URL(o.path, o.baseUrl);
    let gotResponse = false;
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'GET', agent: o.agent, headers: { host: o.host, 'user-agent': 'verity-soak' } }, (res) => {
      gotResponse = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => done({ kind: 'lost', error: `body: ${err.message}` }));
      res.on('aborted', () => done({ kind: 'lost', error: 'body aborted' }));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (!res.complete || (Number.isFinite(declared) && declared !== body.length)) return done({ kind: 'lost', error: 'truncated body' });
        const servedBy = String(res.headers['x-verity-node'] ?? '');
        const shuttingDown = res.statusCode === 503 && body.toString('utf8').includes('BAL_ERR_SHUTTING_DOWN');
        done({ kind: 'response', status: res.statusCode ?? 0, servedBy, body, shuttingDown });
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') return done({ kind: 'refused' });
      // Browsers retry an idempotent request in this case; so does the soak's visitor.
      if (!gotResponse && req.reusedSocket && (err.code === 'ECONNRESET' || err.message === 'socket hang up')) return done({ kind: 'stale-connection' });
      done({ kind: 'lost', error: `${err.code ?? err.message} (${req.reusedSocket ? 'reused' : 'new'} connection, ${gotResponse ? 'mid-response' : 'no response yet'})` });
    });
    const timer = setTimeout(() => {
      done({ kind: 'hung' });
      req.destroy();
    }, o.timeoutMs);
    req.end();
  });
}
