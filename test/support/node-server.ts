import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NODE_REQUEST_AUTH_HEADER, nodeRequestKey, signNodeRequest } from '../../common/protocol/node-request-auth.js';
import { openDiskStore, type DiskStore } from '../../node/cache/disk-store.js';
import { createHttpCache, type HttpCache } from '../../node/cache/http-cache.js';
import { createBufferBudget, type BufferBudget } from '../../node/cache/pump.js';
import { createOriginFetcher } from '../../node/origin-fetch.js';
import { createNodeServer } from '../../node/server.js';
import { createTrafficStats, type TrafficStats } from '../../node/traffic.js';
import { rawRequest, type RawResponse } from './node-http.js';

export interface TestNodeServer {
  url: string;
  /** The key requests must be signed with ('' when the node has none). */
  key: string;
  server: Server;
  store: DiskStore;
  cache: HttpCache;
  traffic: TrafficStats;
  budget: BufferBudget;
  /** Gives the node another request key (as a heartbeat answer would). */
  setKey(key: string): void;
  /** A request signed as the balancer signs it (the first site's host unless given). */
  request(path: string, o?: { host?: string; method?: string; headers?: Record<string, string> }): Promise<RawResponse>;
  close(): Promise<void>;
}

export interface TestNodeServerOptions {
  sites: Record<string, string>;
  cacheDir: string;
  capBytes?: number;
  originTimeoutMs?: number;
  maxBodyBytes?: number;
  maxConcurrent?: number;
  maxBufferedBytes?: number;
  /** The node's request key; default: one derived for a test node; null: none yet (unregistered). */
  key?: string | null;
  now?: () => number;
}

/** The node's public listener on 127.0.0.1 with a real disk cache, as `verity node` wires it. */
export async function startTestNodeServer(o: TestNodeServerOptions): Promise<TestNodeServer> {
  let key = o.key === undefined ? nodeRequestKey('test-secret', 'a'.repeat(32)) : o.key;
  const store = await openDiskStore(o.cacheDir, o.capBytes ?? 10_000_000);
  const now = o.now ?? Date.now;
  const fetcher = createOriginFetcher({ maxSockets: 16, now });
  const budget = createBufferBudget(o.maxBufferedBytes ?? 64 * 1024 * 1024);
  const cache = createHttpCache({ store, fetchOrigin: fetcher.fetch, now, originTimeoutMs: o.originTimeoutMs ?? 5000, maxBodyBytes: o.maxBodyBytes ?? 5_000_000, budget });
  const traffic = createTrafficStats();
  const server = createNodeServer({ cache, traffic, originFor: (h) => o.sites[h] ?? null, requestKey: () => key, maxConcurrent: o.maxConcurrent ?? 64, health: () => ({}), isDraining: () => false, now });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const firstHost = Object.keys(o.sites)[0] ?? 'site.test';
  return {
    url, server, store, cache, traffic, budget,
    get key() {
      return key ?? '';
    },
    setKey: (k) => void (key = k),
    request: (path, r = {}) => {
      const host = r.host ?? firstHost;
      const method = r.method ?? 'GET';
      const auth = signNodeRequest(key ?? '', { method, host, target: path }, now());
      return rawRequest(url + path, { host, method, headers: { [NODE_REQUEST_AUTH_HEADER]: auth, ...r.headers } });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fetcher.close();
      await store.close();
    },
  };
}
