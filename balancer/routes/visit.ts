import type { IncomingMessage, ServerResponse } from 'node:http';
import { poisonConnection } from '../edge/connection-guard.js';
import type { GeoPoint } from '../geo/resolver.js';
import type { Publication } from '../publication/types.js';
import type { EncodingClass } from '../publication/variant.js';
import type { RouteNode, RouteSite } from '../registry/types.js';
import type { Runtime } from './runtime.js';

// One visitor request from arrival to its last byte: who asked, for what, the deadline, the
// upstream call in progress (so a deadline or a departing visitor can abort it) and the single
// place a response starts. One object per request; its methods are shared, no closures.

export const NODE_HEADER = 'x-verity-node';

/** Anything in progress upstream that a deadline or a departing visitor must stop. */
export interface Abortable {
  abort(reason: Error): void;
}

/** A node that failed this visitor; counted against it only if the origin then did better. */
export interface NodeFailure {
  node: RouteNode;
  failure: string;
}

const visitOf = Symbol('visit');

function onResponseClose(this: ServerResponse): void {
  const v = (this as ServerResponse & { [visitOf]?: Visit })[visitOf];
  if (v) v.closed();
}

export class Visit {
  readonly startedAt: number;
  /** How the visitor reached us (for X-Forwarded-Proto toward the origin). */
  readonly proto: 'http' | 'https';
  /** A node whose answer did not match, while the origin's fresh copy is fetched to judge it. */
  judging: { node: RouteNode; status: number; encoding: string | null; sha256: string; body: Buffer; expected: Publication } | null = null;
  current: Abortable | null = null;
  expired = false;
  clientGone = false;
  /** Bytes taken from the global buffer budget; given back when the response is done. */
  reserved = 0;
  failures: NodeFailure[] | null = null;
  tried: string[] | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private geoDone = false;
  private geoPoint: GeoPoint | null = null;

  constructor(
    readonly rt: Runtime,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly site: RouteSite,
    readonly url: string,
    readonly method: string,
    readonly clientIp: string,
    readonly encoding: EncodingClass,
    /** Set by a valid audit pin: the one node this request must reach. */
    readonly pinned: RouteNode | null,
  ) {
    this.startedAt = rt.now();
    this.proto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
    (res as ServerResponse & { [visitOf]?: Visit })[visitOf] = this;
    res.once('close', onResponseClose);
  }

  /** The visitor's place (geo lookup done once, only when a node is picked). */
  get client(): GeoPoint | null {
    if (!this.geoDone) {
      this.geoDone = true;
      this.geoPoint = this.rt.geo(this.clientIp);
    }
    return this.geoPoint;
  }

  get done(): boolean {
    return this.expired || this.clientGone || this.res.writableEnded;
  }

  /** Nodes get `deadlineMs` for the whole exchange; the origin, once it answers, as long as it takes. */
  armDeadline(): void {
    if (this.deadline === null) this.deadline = setTimeout(expire, this.rt.limits.deadlineMs, this);
  }

  clearDeadline(): void {
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadline = null;
  }

  expire(): void {
    this.expired = true;
    this.current?.abort(new Error('overall deadline reached'));
    this.sendError(504, 'BAL_ERR_UPSTREAM_TIMEOUT', this.pinned?.id ?? 'origin');
  }

  closed(): void {
    this.clearDeadline();
    this.rt.budget.give(this.reserved);
    this.reserved = 0;
    if (!this.res.writableFinished) {
      // The visitor left: nothing upstream may linger for them.
      this.clientGone = true;
      this.current?.abort(new Error('visitor went away'));
    }
  }

  noteFailure(node: RouteNode, failure: string): void {
    (this.failures ??= []).push({ node, failure });
  }

  markTried(id: string): void {
    (this.tried ??= []).push(id);
  }

  hasTried(id: string): boolean {
    return this.tried !== null && this.tried.includes(id);
  }

  /** Starts the response; every response says who served it. */
  writeHead(status: number, headers: string[], servedBy: string): void {
    headers.push(NODE_HEADER, servedBy);
    this.res.writeHead(status, headers);
  }

  /** `close`: the request was refused for its framing; nothing after it on the connection is read. */
  sendError(status: number, code: string, servedBy = 'origin', close = false): void {
    if (this.res.headersSent) {
      this.res.destroy();
      return;
    }
    const body = `{"error":"${code}"}\n`;
    const headers = ['content-type', 'application/json', 'content-length', String(body.length), 'cache-control', 'no-store'];
    if (close) {
      headers.push('connection', 'close');
      poisonConnection(this.res);
    }
    this.writeHead(status, headers, servedBy);
    this.res.end(this.method === 'HEAD' ? undefined : body);
    this.rt.metrics.countRequest(String(status));
  }
}

function expire(v: Visit): void {
  v.expire();
}
