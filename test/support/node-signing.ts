import type { Pool } from '../../common/db/pool.js';
import { getOrCreateSetting } from '../../common/db/queries/settings.js';
import { NODE_REQUEST_AUTH_HEADER, NODE_REQUEST_SECRET_SETTING, nodeRequestKey, signNodeRequest } from '../../common/protocol/node-request-auth.js';
import { rawRequest, type RawResponse } from './node-http.js';

// Requests to a real node, signed as the balancers sign them (the key derived from the shared
// secret in the settings table and the node's id).

export async function balancerKeyFor(pool: Pool, nodeId: string): Promise<string> {
  return nodeRequestKey((await getOrCreateSetting(pool, NODE_REQUEST_SECRET_SETTING)).value, nodeId);
}

export function signedRequest(base: string, key: string, path: string, o: { host: string; method?: string; headers?: Record<string, string> }): Promise<RawResponse> {
  const method = o.method ?? 'GET';
  const auth = signNodeRequest(key, { method, host: o.host, target: path }, Date.now());
  return rawRequest(base + path, { host: o.host, method, headers: { [NODE_REQUEST_AUTH_HEADER]: auth, ...o.headers } });
}
