import type { LookupFunction } from 'node:net';
import { Pool, type buildConnector } from 'undici';

// Keep-alive connection pools, one per upstream (each node, each origin), with explicit framing:
// undici parses responses strictly, sends request bodies with exactly the framing they came
// with (a length, or chunked), and closes a connection whose response failed mid-way instead of
// reusing it. Nodes and origins never share a pool, and node names resolve through the checked
// lookup (DNS rebinding).

export interface UpstreamOptions {
  /** Resolves and checks node names at connect time. */
  nodeLookup?: LookupFunction;
  /** Connects to nodes: name checks, then TLS pinned to the node's registered key (upstream/node-tls.ts). */
  nodeConnect?: buildConnector.connector;
  /** Most connections to one upstream. */
  connections: number;
  /** Time the origin has to send response headers (its body may take as long as it needs). */
  originHeadersTimeoutMs: number;
}

export class Upstreams {
  private nodes = new Map<string, Pool>();
  private origins = new Map<string, Pool>();

  constructor(private readonly opts: UpstreamOptions) {}

  /** Per request: a map lookup once the pool exists. */
  node(url: URL): Pool {
    let pool = this.nodes.get(url.origin);
    if (!pool) {
      pool = new Pool(url.origin, {
        connections: this.opts.connections, pipelining: 1, keepAliveTimeout: 4_000, keepAliveMaxTimeout: 30_000,
        connect: this.opts.nodeConnect ?? (this.opts.nodeLookup ? { lookup: this.opts.nodeLookup } : {}),
      });
      this.nodes.set(url.origin, pool);
    }
    return pool;
  }

  origin(url: URL): Pool {
    let pool = this.origins.get(url.origin);
    if (!pool) {
      pool = new Pool(url.origin, {
        connections: this.opts.connections, pipelining: 1, keepAliveTimeout: 4_000, keepAliveMaxTimeout: 30_000,
        headersTimeout: this.opts.originHeadersTimeoutMs, bodyTimeout: 0,
      });
      this.origins.set(url.origin, pool);
    }
    return pool;
  }

  /** Connections to a node that left the table are closed. */
  forgetNode(url: URL): void {
    const pool = this.nodes.get(url.origin);
    if (!pool) return;
    this.nodes.delete(url.origin);
    void pool.destroy().catch(() => undefined);
  }

  async close(): Promise<void> {
    const all = [...this.nodes.values(), ...this.origins.values()];
    this.nodes.clear();
    this.origins.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => undefined)));
  }
}
