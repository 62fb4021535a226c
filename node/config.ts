import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { durationMs, httpUrl, latLon, listenAddress, logOptions, positiveInt } from '../common/config/shared.js';
import { defineProgram, option } from '../common/config/options.js';

export const nodeProgram = defineProgram({
  usage: 'verity node --balancer URL --token TOKEN [options]',
  summary: 'Run a volunteer node: serves and caches the public pages of the sites it was assigned.',
  helpFooter: [
    'Admin commands (run where the database is; recorded in the admin log):',
    '  verity node quarantine ID --reason TEXT   no visitor traffic, still audited',
    '  verity node reinstate ID --reason TEXT    back to active, integrity reset',
    '  verity node ban ID --reason TEXT          for good',
  ].join('\n'),
  options: {
    balancer: option({ flag: 'balancer', env: 'VERITY_BALANCER', valueName: 'URL', description: "the balancer's control-plane URL", schema: httpUrl }),
    token: option({ flag: 'token', env: 'VERITY_JOIN_TOKEN', valueName: 'TOKEN', description: 'join token from the site admin (needed on first start only)', schema: z.string().min(1).optional() }),
    listen: option({ flag: 'listen', env: 'VERITY_NODE_LISTEN', valueName: 'ADDR', description: 'where the node serves the balancer', default: '0.0.0.0:8090', schema: listenAddress }),
    plainHttp: option({ flag: 'plain-http', env: 'VERITY_NODE_PLAIN_HTTP', description: 'serve plain HTTP instead of TLS with this node\'s own key (a balancer accepts it only with VERITY_ALLOW_PRIVATE_NODE_URLS: local trials, tests); also implied by an http:// --public-url', boolean: true, default: false, schema: z.boolean() }),
    publicUrl: option({ flag: 'public-url', env: 'VERITY_PUBLIC_URL', valueName: 'URL', description: 'address the balancer proxies to (behind NAT or a proxy)', defaultLabel: 'the --listen address', schema: httpUrl.optional() }),
    location: option({ flag: 'location', env: 'VERITY_LOCATION', valueName: 'LAT,LON', description: 'declared location (a claim the balancer checks)', schema: latLon.optional() }),
    cacheDir: option({ flag: 'cache-dir', env: 'VERITY_CACHE_DIR', valueName: 'DIR', description: 'HTTP cache directory', defaultLabel: '<data-dir>/cache', schema: z.string().min(1).optional() }),
    cacheSize: option({ flag: 'cache-size', env: 'VERITY_CACHE_SIZE', valueName: 'BYTES', description: 'cache size cap in bytes', default: 256 * 1024 * 1024, schema: positiveInt }),
    name: option({ flag: 'name', env: 'VERITY_NODE_NAME', valueName: 'NAME', description: 'a name admins see', defaultLabel: 'host name', schema: z.string().min(1).max(64).optional() }),
    dataDir: option({ flag: 'data-dir', env: 'VERITY_NODE_DATA_DIR', valueName: 'DIR', description: 'where the key pair (identity) is kept', default: join(homedir(), '.verity-node'), schema: z.string().min(1) }),
    statusListen: option({ flag: 'status-listen', env: 'VERITY_STATUS_LISTEN', valueName: 'ADDR', description: 'local status page for the volunteer', default: '127.0.0.1:8091', schema: listenAddress }),
    maxConcurrency: option({ flag: 'max-concurrency', env: 'VERITY_MAX_CONCURRENCY', valueName: 'N', description: 'requests served at once; more get 503', default: 64, schema: positiveInt }),
    originTimeout: option({ flag: 'origin-timeout', env: 'VERITY_ORIGIN_TIMEOUT', valueName: 'DURATION', description: 'overall deadline of one origin request (e.g. 15s)', default: '15s', schema: durationMs }),
    maxBodyBytes: option({ flag: 'max-body-bytes', env: 'VERITY_MAX_BODY_BYTES', valueName: 'BYTES', description: 'largest origin response body the node relays (bodies stream through; a longer one is refused or cut)', default: 8 * 1024 ** 3, schema: positiveInt }),
    maxBufferBytes: option({ flag: 'max-buffer-bytes', env: 'VERITY_MAX_BUFFER_BYTES', valueName: 'BYTES', description: 'memory for response bytes passing through at once; past it, reading from origins waits', default: 64 * 1024 * 1024, schema: positiveInt }),
    drainTimeout: option({ flag: 'drain-timeout', env: 'VERITY_DRAIN_TIMEOUT', valueName: 'DURATION', description: 'on SIGTERM, how long in-flight requests may take to finish', default: '30s', schema: durationMs }),
    ...logOptions,
  },
});
