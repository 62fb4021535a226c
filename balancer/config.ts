import { z } from 'zod';
import { commaList, databaseOptions, durationMs, latLon, listenAddress, logOptions, positiveInt, secretValue } from '../common/config/shared.js';
import { defineProgram, option } from '../common/config/options.js';

export const balancerProgram = defineProgram({
  usage: 'verity balancer [--listen ADDR] [--tls-listen ADDR] [--control-listen ADDR] [--workers N] [--acme-directory URL --acme-email ADDR]',
  summary: 'The public proxy visitors reach (DNS points here) and the control plane: node API, admin API, dashboard.',
  options: {
    listen: option({ flag: 'listen', env: 'VERITY_LISTEN', valueName: 'ADDR', description: 'public proxy address', default: '0.0.0.0:8080', schema: listenAddress }),
    tlsListen: option({ flag: 'tls-listen', env: 'VERITY_TLS_LISTEN', valueName: 'ADDR', description: 'HTTPS public address: TLS with each site\'s certificate (SNI), HTTP/2 and HTTP/1.1 by ALPN (unset: no HTTPS)', schema: listenAddress.optional() }),
    tlsSecret: option({ flag: 'tls-secret', env: 'VERITY_TLS_SECRET', valueName: 'SECRET', description: 'secret that seals TLS private keys (site certificates, the ACME account) in the database; needed with --tls-listen or --acme-directory, and the same on every balancer', schema: z.string().min(32, 'must be at least 32 characters').optional() }),
    acmeDirectory: option({ flag: 'acme-directory', env: 'VERITY_ACME_DIRECTORY', valueName: 'URL', description: 'ACME directory (RFC 8555) that issues certificates for registered sites without one of their own, e.g. https://acme-v02.api.letsencrypt.org/directory (unset: no automatic certificates)', schema: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).optional() }),
    acmeEmail: option({ flag: 'acme-email', env: 'VERITY_ACME_EMAIL', valueName: 'ADDR', description: 'contact address of the ACME account (expiry notices)', schema: z.email().optional() }),
    acmeChallenges: option({ flag: 'acme-challenges', env: 'VERITY_ACME_CHALLENGES', valueName: 'TYPE,...', description: 'ACME challenge types to answer, preferred first: http-01 (on --listen, reached on port 80) and tls-alpn-01 (on --tls-listen, reached on port 443)', default: 'http-01,tls-alpn-01', schema: commaList.pipe(z.array(z.enum(['http-01', 'tls-alpn-01'])).min(1, 'name at least one challenge type')) }),
    acmeCa: option({ flag: 'acme-ca', env: 'VERITY_ACME_CA', valueName: 'FILE', description: 'PEM file of a private CA to trust for the ACME directory itself (a private ACME server; the Let\'s Encrypt test CA in tests)', schema: z.string().min(1).optional() }),
    controlListen: option({ flag: 'control-listen', env: 'VERITY_CONTROL_LISTEN', valueName: 'ADDR', description: 'control plane address (node API, admin API, dashboard)', default: '127.0.0.1:8081', schema: listenAddress }),
    adminToken: option({ flag: 'admin-token', env: 'VERITY_ADMIN_TOKEN', valueName: 'TOKEN', description: 'bearer token for the admin API and first dashboard login', defaultLabel: 'generated and printed on first start', schema: secretValue.optional() }),
    auditSecret: option({ flag: 'audit-secret', env: 'VERITY_AUDIT_SECRET', valueName: 'SECRET', description: 'secret shared with auditors to sign audit pins', defaultLabel: 'generated and stored in the database', schema: secretValue.optional() }),
    trustedProxies: option({ flag: 'trusted-proxies', env: 'VERITY_TRUSTED_PROXIES', valueName: 'CIDR,...', description: 'peers whose X-Forwarded-For is believed (loopback is not trusted by default)', default: '', schema: commaList }),
    allowPrivateNodeUrls: option({ flag: 'allow-private-node-urls', env: 'VERITY_ALLOW_PRIVATE_NODE_URLS', description: 'let nodes register loopback or private-range URLs (local trials, tests)', boolean: true, default: false, schema: z.boolean() }),
    attemptTimeout: option({ flag: 'attempt-timeout', env: 'VERITY_ATTEMPT_TIMEOUT', valueName: 'DURATION', description: 'time a node has to send response headers before the request is retried elsewhere', default: '5s', schema: durationMs }),
    deadline: option({ flag: 'deadline', env: 'VERITY_DEADLINE', valueName: 'DURATION', description: 'overall deadline of one proxied request, body included (a dripping node is cut here)', default: '30s', schema: durationMs }),
    retryBudget: option({ flag: 'retry-budget', env: 'VERITY_RETRY_BUDGET', valueName: 'SHARE', description: 'retries allowed as a share of requests (0..1)', default: 0.2, schema: z.coerce.number().min(0).max(1) }),
    shadowShare: option({ flag: 'shadow-share', env: 'VERITY_SHADOW_SHARE', valueName: 'SHARE', description: 'share of node-served dynamic pages (--dynamic sampled sites) compared with the origin in the background (0..1)', default: 0.01, schema: z.coerce.number().min(0).max(1) }),
    probationShare: option({ flag: 'probation-share', env: 'VERITY_PROBATION_SHARE', valueName: 'SHARE', description: 'most of a site\'s node-served requests that all probation nodes together may get, whatever their subnets (0..1)', default: 0.1, schema: z.coerce.number().min(0).max(1) }),
    bodyLimit: option({ flag: 'body-limit', env: 'VERITY_BODY_LIMIT', valueName: 'BYTES', description: 'largest request body forwarded to the origin', default: 10 * 1024 * 1024, schema: positiveInt }),
    bufferLimit: option({ flag: 'buffer-limit', env: 'VERITY_BUFFER_LIMIT', valueName: 'BYTES', description: 'published bodies up to this size are read whole from a node and checked before the visitor sees a byte; larger ones are checked piece by piece (1 MiB) as they stream', default: 4 * 1024 * 1024, schema: positiveInt }),
    bufferBudget: option({ flag: 'buffer-budget', env: 'VERITY_BUFFER_BUDGET', valueName: 'BYTES', description: 'most body bytes held at once across all requests; past it, requests go to the origin', default: 256 * 1024 * 1024, schema: positiveInt }),
    originTimeout: option({ flag: 'origin-timeout', env: 'VERITY_ORIGIN_TIMEOUT', valueName: 'DURATION', description: 'time the origin has to send response headers (its body may stream as long as it takes)', default: '120s', schema: durationMs }),
    maxResponseSize: option({ flag: 'max-response-size', env: 'VERITY_MAX_RESPONSE_SIZE', valueName: 'BYTES', description: 'largest published body nodes may serve (larger ones are served by the origin)', default: 4 * 1024 * 1024 * 1024, schema: positiveInt }),
    location: option({ flag: 'location', env: 'VERITY_BALANCER_LOCATION', valueName: 'LAT,LON', description: 'where this balancer is: health-probe round-trip times then check the locations nodes declare (unset: no RTT check)', schema: latLon.optional() }),
    workers: option({ flag: 'workers', env: 'VERITY_WORKERS', valueName: 'N', description: 'processes sharing the public port, each with its own routing table; the first process keeps the control plane', defaultLabel: 'number of CPU cores', schema: positiveInt.max(256).optional() }),
    wsIdleTimeout: option({ flag: 'ws-idle-timeout', env: 'VERITY_WS_IDLE_TIMEOUT', valueName: 'DURATION', description: 'a WebSocket (always relayed to the origin) with no traffic either way for this long is closed', default: '5m', schema: durationMs }),
    wsPerClient: option({ flag: 'ws-per-client', env: 'VERITY_WS_PER_CLIENT', valueName: 'N', description: 'most WebSockets one client address may hold open at once', default: 32, schema: positiveInt }),
    healthInterval: option({ flag: 'health-interval', env: 'VERITY_HEALTH_INTERVAL', valueName: 'DURATION', description: 'how often every node\'s health endpoint is probed', default: '10s', schema: durationMs }),
    ...databaseOptions,
    ...logOptions,
  },
});
