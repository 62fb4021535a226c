import { z } from 'zod';
import { durationMs, logOptions, nonNegativeInt, positiveInt } from '../../common/config/shared.js';
import { defineProgram, option } from '../../common/config/options.js';

export const demoProgram = defineProgram({
  usage: 'verity demo [--nodes N] [--rogue N] [--base-port P] [--fresh]',
  summary: 'The whole system on this machine: embedded PostgreSQL, a sample origin, balancer, auditor, dashboard and volunteer nodes (some rogue).',
  options: {
    nodes: option({ flag: 'nodes', env: 'VERITY_DEMO_NODES', valueName: 'N', description: 'volunteer nodes to start', default: 5, schema: positiveInt.max(50) }),
    rogue: option({ flag: 'rogue', env: 'VERITY_DEMO_ROGUE', valueName: 'N', description: 'how many of them alter pages', default: 1, schema: nonNegativeInt }),
    basePort: option({ flag: 'base-port', env: 'VERITY_DEMO_BASE_PORT', valueName: 'P', description: 'first of a block of consecutive ports', defaultLabel: 'free ports found automatically', schema: z.coerce.number().int().min(1024).max(65000).optional() }),
    auditEvery: option({ flag: 'audit-every', env: 'VERITY_DEMO_AUDIT_EVERY', valueName: 'DURATION', description: 'audit cadence of the demo auditor (fast, so the rogue is caught quickly)', default: '20s', schema: durationMs }),
    visitorRate: option({ flag: 'visitor-rate', env: 'VERITY_DEMO_VISITOR_RATE', valueName: 'N', description: 'simulated visitor requests per second', default: 8, schema: positiveInt.max(200) }),
    dir: option({ flag: 'dir', env: 'VERITY_DEMO_DIR', valueName: 'DIR', description: 'where the demo keeps its nodes\' keys, admin token, ports and logs (kept across runs)', default: './.verity/demo', schema: z.string().min(1) }),
    pgDir: option({ flag: 'pg-dir', env: 'VERITY_PG_DIR', valueName: 'DIR', description: 'data directory of the embedded PostgreSQL (the demo\'s database is kept across runs)', default: './.verity/demo-pg', schema: z.string().min(1) }),
    fresh: option({ flag: 'fresh', description: 'start from scratch: new database, new nodes, new admin token', boolean: true, default: false, schema: z.boolean() }),
    ...logOptions,
  },
  check: (c) => (c.rogue > c.nodes ? [`--rogue (${c.rogue}) cannot exceed --nodes (${c.nodes})`] : []),
});
