import { z } from 'zod';
import { commaList, databaseOptions, listenAddress, logOptions } from '../common/config/shared.js';
import { defineProgram, option } from '../common/config/options.js';

export const balancerProgram = defineProgram({
  usage: 'verity balancer [--listen ADDR] [--control-listen ADDR]',
  summary: 'The public proxy visitors reach (DNS points here) and the control plane: node API, admin API, dashboard.',
  options: {
    listen: option({ flag: 'listen', env: 'VERITY_LISTEN', valueName: 'ADDR', description: 'public proxy address', default: '0.0.0.0:8080', schema: listenAddress }),
    controlListen: option({ flag: 'control-listen', env: 'VERITY_CONTROL_LISTEN', valueName: 'ADDR', description: 'control plane address (node API, admin API, dashboard)', default: '127.0.0.1:8081', schema: listenAddress }),
    adminToken: option({ flag: 'admin-token', env: 'VERITY_ADMIN_TOKEN', valueName: 'TOKEN', description: 'bearer token for the admin API and first dashboard login', defaultLabel: 'generated and printed on first start', schema: z.string().min(16, 'must be at least 16 characters').optional() }),
    auditSecret: option({ flag: 'audit-secret', env: 'VERITY_AUDIT_SECRET', valueName: 'SECRET', description: 'secret shared with auditors to sign audit pins', defaultLabel: 'generated and stored in the database', schema: z.string().min(16, 'must be at least 16 characters').optional() }),
    trustedProxies: option({ flag: 'trusted-proxies', env: 'VERITY_TRUSTED_PROXIES', valueName: 'CIDR,...', description: 'peers whose X-Forwarded-For is believed (loopback is not trusted by default)', default: '', schema: commaList }),
    allowPrivateNodeUrls: option({ flag: 'allow-private-node-urls', env: 'VERITY_ALLOW_PRIVATE_NODE_URLS', description: 'let nodes register loopback or private-range URLs (local trials, tests)', boolean: true, default: false, schema: z.boolean() }),
    ...databaseOptions,
    ...logOptions,
  },
});
