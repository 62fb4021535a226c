import { z } from 'zod';
import { databaseOptions, durationMs, httpUrl, listenAddress, logOptions, positiveInt, secretValue } from '../common/config/shared.js';
import { defineProgram, option } from '../common/config/options.js';

export const auditorProgram = defineProgram({
  usage: 'verity auditor [--concurrency N] [--audit-every DURATION]',
  summary: 'Audit worker: fetches pages through the balancer pinned to one node, compares them with the origin, and moves trust.',
  options: {
    concurrency: option({ flag: 'concurrency', env: 'VERITY_AUDITOR_CONCURRENCY', valueName: 'N', description: 'audits run at once by this process', default: 2, schema: positiveInt }),
    auditEvery: option({ flag: 'audit-every', env: 'VERITY_AUDIT_EVERY', valueName: 'DURATION', description: 'every node is audited at least this often (e.g. 5m)', default: '5m', schema: durationMs }),
    auditSecret: option({ flag: 'audit-secret', env: 'VERITY_AUDIT_SECRET', valueName: 'SECRET', description: 'secret shared with balancers to sign audit pins', defaultLabel: 'read from the database', schema: secretValue.optional() }),
    balancerUrl: option({ flag: 'balancer-url', env: 'VERITY_BALANCER_PUBLIC_URL', valueName: 'URL', description: "the balancer's public address; audits go through it pinned to one node (unset: nodes are audited at their own address, for local trials)", schema: httpUrl.optional() }),
    recycleEvery: option({ flag: 'recycle-every', env: 'VERITY_AUDITOR_RECYCLE_EVERY', valueName: 'N', description: 'restart the browser after this many rendered pages (bounds memory)', default: 50, schema: positiveInt }),
    loadTimeout: option({ flag: 'load-timeout', env: 'VERITY_AUDITOR_LOAD_TIMEOUT', valueName: 'DURATION', description: 'deadline for a page to load in the browser', default: '15s', schema: durationMs }),
    stepTimeout: option({ flag: 'step-timeout', env: 'VERITY_AUDITOR_STEP_TIMEOUT', valueName: 'DURATION', description: 'deadline for each later browser step (DOM, screenshot) and each fetch', default: '10s', schema: durationMs }),
    settle: option({ flag: 'settle', env: 'VERITY_AUDITOR_SETTLE', valueName: 'DURATION', description: "time given to a page's scripts after load, in virtual time (timers run ahead: 10s of them take milliseconds)", default: '10s', schema: durationMs }),
    auditTimeout: option({ flag: 'audit-timeout', env: 'VERITY_AUDITOR_AUDIT_TIMEOUT', valueName: 'DURATION', description: 'deadline for a whole audit; past it the audit is inconclusive', default: '90s', schema: durationMs }),
    allowNoSandbox: option({ flag: 'allow-no-sandbox', env: 'VERITY_AUDITOR_ALLOW_NO_SANDBOX', description: "render pages even where Chromium cannot have its sandbox (the auditor refuses to start otherwise; says so loudly)", boolean: true, default: false, schema: z.boolean() }),
    browser: option({ flag: 'browser', env: 'VERITY_AUDITOR_BROWSER', description: 'render pages in Chromium (--no-browser: HTTP and document checks only)', boolean: true, default: true, schema: z.boolean() }),
    metricsListen: option({ flag: 'metrics-listen', env: 'VERITY_AUDITOR_METRICS_LISTEN', valueName: 'ADDR', description: 'where /healthz and /metrics are served (port 0: any free port)', default: '127.0.0.1:8082', schema: listenAddress }),
    ...databaseOptions,
    ...logOptions,
  },
});
