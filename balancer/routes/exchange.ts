import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { GeoPoint } from '../geo/resolver.js';
import type { UpstreamCall } from '../proxy/forwarder.js';
import { upstreamError } from '../proxy/upstream-error.js';
import type { RouteSite } from '../registry/types.js';
import type { Runtime } from './runtime.js';

// One visitor request from arrival to the last byte: the overall deadline, the upstream call in
// progress (so a deadline or a departing visitor can destroy it), and the single place a
// response starts.

export const NODE_HEADER = 'x-verity-node';

export class Exchange {
  readonly startedAt: number;
  current: UpstreamCall | null = null;
  expired = false;
  clientGone = false;
  private deadline: NodeJS.Timeout;

  constructor(
    readonly rt: Runtime,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly site: RouteSite,
    readonly url: string,
    readonly clientIp: string,
    readonly client: GeoPoint | null,
  ) {
    this.startedAt = rt.now();
    this.deadline = setTimeout(() => this.expire(), rt.limits.deadlineMs);
    res.on('close', () => {
      clearTimeout(this.deadline);
      if (!res.writableFinished) {
        // The visitor left: the upstream request must not linger (http-proxy leaves it open).
        this.clientGone = true;
        this.current?.abort(upstreamError('reset', 'visitor went away'));
      }
    });
  }

  get method(): string {
    return this.req.method ?? 'GET';
  }

  get done(): boolean {
    return this.expired || this.clientGone || this.res.writableEnded;
  }

  private expire(): void {
    this.expired = true;
    this.current?.abort(upstreamError('timeout', 'overall deadline reached'));
    if (!this.res.headersSent) this.sendError(504, 'BAL_ERR_UPSTREAM_TIMEOUT');
    else this.res.destroy();
  }

  /** Starts the response. Every response carries X-Verity-Node. */
  writeHead(status: number, headers: OutgoingHttpHeaders, servedBy: string): void {
    headers[NODE_HEADER] = servedBy;
    this.res.writeHead(status, headers);
  }

  sendError(status: number, code: string, servedBy = 'origin'): void {
    if (this.res.headersSent) {
      this.res.destroy();
      return;
    }
    const body = `${JSON.stringify({ error: code })}\n`;
    this.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' }, servedBy);
    this.res.end(this.method === 'HEAD' ? undefined : body);
    this.rt.metrics.countRequest(String(status));
  }

  finish(): void {
    clearTimeout(this.deadline);
  }

  /** The origin answered: its body may stream as long as it takes (the deadline is for nodes). */
  trustUpstream(): void {
    clearTimeout(this.deadline);
  }
}
