import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openDiskStore, type DiskStore } from '../../node/cache/disk-store.js';
import { createHttpCache, type HttpCache } from '../../node/cache/http-cache.js';
import { createOriginFetcher } from '../../node/origin-fetch.js';
import { createNodeServer } from '../../node/server.js';
import { createTrafficStats, type TrafficStats } from '../../node/traffic.js';

export interface TestNodeServer {
  url: string;
  server: Server;
  store: DiskStore;
  cache: HttpCache;
  traffic: TrafficStats;
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
  now?: () => number;
}

/** The node's public listener on 127.0.0.1 with a real disk cache, as `verity node` wires it. */
export async function startTestNodeServer(o: TestNodeServerOptions): Promise<TestNodeServer> {
  const store = await openDiskStore(o.cacheDir, o.capBytes ?? 10_000_000);
  const fetcher = createOriginFetcher({ maxSockets: 16, ...(o.maxBufferedBytes ? { maxBufferedBytes: o.maxBufferedBytes } : {}) });
  const cache = createHttpCache({ store, fetchOrigin: fetcher.fetch, now: o.now ?? Date.now, originTimeoutMs: o.originTimeoutMs ?? 5000, maxBodyBytes: o.maxBodyBytes ?? 5_000_000 });
  const traffic = createTrafficStats();
  const server = createNodeServer({ cache, traffic, originFor: (h) => o.sites[h] ?? null, maxConcurrent: o.maxConcurrent ?? 64, health: () => ({}), isDraining: () => false });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    server, store, cache, traffic,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fetcher.close();
      await store.close();
    },
  };
}
