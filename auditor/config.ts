import { z } from 'zod';
import { databaseOptions, logOptions, positiveInt } from '../common/config/shared.js';
import { defineProgram, option } from '../common/config/options.js';

export const auditorProgram = defineProgram({
  usage: 'verity auditor [--concurrency N] [--audit-every SECONDS]',
  summary: 'Audit worker: fetches pages through the balancer pinned to one node, compares them with the origin, and moves trust.',
  options: {
    concurrency: option({ flag: 'concurrency', env: 'VERITY_AUDITOR_CONCURRENCY', valueName: 'N', description: 'audits run at once by this process', default: 2, schema: positiveInt }),
    auditEvery: option({ flag: 'audit-every', env: 'VERITY_AUDIT_EVERY', valueName: 'SECONDS', description: 'every node is audited at least this often', default: 300, schema: positiveInt }),
    auditSecret: option({ flag: 'audit-secret', env: 'VERITY_AUDIT_SECRET', valueName: 'SECRET', description: 'secret shared with balancers to sign audit pins', defaultLabel: 'read from the database', schema: z.string().min(16).optional() }),
    ...databaseOptions,
    ...logOptions,
  },
});
