import type { Notification } from 'pg';
import { NODE_CHANGED_CHANNEL } from '../../common/db/queries/trust.js';
import type { Pool, PoolClient } from '../../common/db/pool.js';
import type { Logger } from '../../common/log.js';
import { loadAllNodes, loadAllSites, loadNode, loadSite } from './load.js';
import type { RoutingTable } from './table.js';

// Keeps the routing table current: LISTEN on one dedicated connection, reload the one row that
// changed. When the connection dies (PostgreSQL restart, pg_terminate_backend) the table keeps
// serving as it is; we reconnect with backoff, LISTEN again and reload everything, since
// notifications sent while we were away are lost.

export const SITE_CHANGED_CHANNEL = 'verity_site_changed';

export interface RegistrySync {
  /** Connects, LISTENs, loads everything. Rejects if the database cannot be reached. */
  start(): Promise<void>;
  close(): Promise<void>;
  readonly connected: boolean;
  /** Number of full loads so far (1 after start; +1 per reconnect). */
  readonly loads: number;
}

/** Another channel heard on the same connection (publications, manifests). */
export interface ExtraChannel {
  channel: string;
  handle(payload: string): void;
  /** After a reconnect: notifications sent meanwhile are lost, so start over. */
  resync(): void;
}

export interface SyncOptions {
  pool: Pool;
  table: RoutingTable;
  log: Logger;
  also?: readonly ExtraChannel[];
  retryMinMs?: number;
  retryMaxMs?: number;
}

export function createRegistrySync(opts: SyncOptions): RegistrySync {
  let client: PoolClient | null = null;
  let closed = false;
  let loads = 0;
  let timer: NodeJS.Timeout | null = null;
  let delay = opts.retryMinMs ?? 200;
  const pending = new Set<string>();
  const pendingSites = new Set<string>();
  let draining: Promise<void> | null = null;

  async function reloadAll(): Promise<void> {
    const [sites, nodes] = await Promise.all([loadAllSites(opts.pool), loadAllNodes(opts.pool)]);
    opts.table.replaceAll(sites, nodes);
    loads++;
    for (const extra of opts.also ?? []) extra.resync();
  }

  async function drain(): Promise<void> {
    while ((pending.size > 0 || pendingSites.size > 0) && !closed) {
      for (const id of [...pendingSites]) {
        pendingSites.delete(id);
        opts.table.upsertSite(id, await loadSite(opts.pool, id));
      }
      for (const id of [...pending]) {
        pending.delete(id);
        opts.table.upsertNode(id, await loadNode(opts.pool, id));
      }
    }
  }

  function onNotification(msg: Notification): void {
    if (!msg.payload) return;
    const extra = opts.also?.find((e) => e.channel === msg.channel);
    if (extra) return extra.handle(msg.payload);
    if (msg.channel === NODE_CHANGED_CHANNEL) pending.add(msg.payload);
    else if (msg.channel === SITE_CHANGED_CHANNEL && /^[0-9a-f-]{36}$/.test(msg.payload)) pendingSites.add(msg.payload);
    if (draining) return;
    draining = drain()
      .catch((err: unknown) => {
        opts.log.warn({ err: (err as Error).message }, 'routing table update failed; resyncing');
        lost();
      })
      .finally(() => {
        draining = null;
        if (pending.size > 0 || pendingSites.size > 0) onNotification({ channel: '', payload: '', processId: 0 });
      });
  }

  // Our listeners on the LISTEN client, so they can be taken off again: a client released to
  // the pool is handed to someone else (or to our next connect()) with whatever it carries.
  const attached = new Map<PoolClient, { error: (err: Error) => void; end: () => void }>();

  function detach(c: PoolClient): void {
    const own = attached.get(c);
    attached.delete(c);
    c.off('notification', onNotification);
    if (!own) return;
    c.off('error', own.error);
    c.off('end', own.end);
  }

  function lost(): void {
    if (client) {
      const c = client;
      client = null;
      detach(c);
      // Destroyed, not pooled; a late socket error must still find a listener.
      c.on('error', () => undefined);
      c.release(true);
    }
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = null;
      connect().catch(() => lost());
    }, delay);
    delay = Math.min(delay * 2, opts.retryMaxMs ?? 5_000);
  }

  async function connect(): Promise<void> {
    const c = await opts.pool.connect();
    const own = {
      error: (err: Error): void => {
        opts.log.warn({ err: err.message }, 'routing table listener lost its database connection');
        if (client === c) lost();
      },
      end: (): void => {
        if (client === c) lost();
      },
    };
    attached.set(c, own);
    c.on('error', own.error);
    c.on('end', own.end);
    c.on('notification', onNotification);
    client = c;
    try {
      await c.query(`LISTEN ${NODE_CHANGED_CHANNEL}`);
      await c.query(`LISTEN ${SITE_CHANGED_CHANNEL}`);
      for (const extra of opts.also ?? []) await c.query(`LISTEN ${extra.channel}`);
      await reloadAll();
    } catch (err) {
      if (client === c) lost();
      throw err;
    }
    delay = opts.retryMinMs ?? 200;
    if (loads > 1) opts.log.info({ loads }, 'routing table listener reconnected and resynced');
  }

  return {
    start: connect,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await draining;
      if (client) {
        const c = client;
        client = null;
        await c.query(`UNLISTEN *`).catch(() => undefined);
        detach(c);
        c.release();
      }
    },
    get connected() {
      return client !== null;
    },
    get loads() {
      return loads;
    },
  };
}
