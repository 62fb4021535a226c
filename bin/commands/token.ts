import { z } from 'zod';
import { commandLogOptions, databaseOptions, durationMs, positiveInt, secretValue } from '../../common/config/shared.js';
import { defineProgram, option } from '../../common/config/options.js';
import { openDatabase } from '../../common/db/open.js';
import { findSiteByHost } from '../../common/db/queries/sites.js';
import { createJoinToken, DEFAULT_TOKEN_TTL } from '../../common/db/queries/tokens.js';
import { VerityError } from '../../common/errors.js';
import { createLogger } from '../../common/log.js';
import { runProgram, type ProgramIO } from '../../common/program.js';
import { runGroup, type Subcommand } from './group.js';

export const tokenCreateProgram = defineProgram({
  usage: 'verity token create --site HOST [--uses N] [--ttl DURATION] [--value TOKEN]',
  summary: 'Create a join token volunteers use to enroll a node for a site. It is shown once; only its hash is stored.',
  options: {
    site: option({ flag: 'site', valueName: 'HOST', description: 'host of the site the node will serve', schema: z.string().min(1).transform((h) => h.toLowerCase()) }),
    uses: option({ flag: 'uses', valueName: 'N', description: 'how many nodes may enroll with it', default: 1, schema: positiveInt }),
    value: option({ flag: 'value', env: 'VERITY_BOOTSTRAP_TOKEN', valueName: 'TOKEN', description: 'use this value instead of a random one (for automated provisioning, e.g. docker-compose)', schema: secretValue.pipe(z.string().min(24, 'must be at least 24 characters').regex(/^[A-Za-z0-9_-]+$/, 'may hold only letters, digits, _ and -')).optional() }),
    ttl: option({ flag: 'ttl', valueName: 'DURATION', description: 'how long it stays valid (90s, 15m, 24h, 7d; the dashboard uses the same default)', default: DEFAULT_TOKEN_TTL, schema: durationMs }),
    ...databaseOptions,
    ...commandLogOptions,
  },
});

function runCreate(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(tokenCreateProgram, argv, io, async (config, positionals) => {
    if (positionals.length) throw new VerityError('CLI_ERR_USAGE', `unexpected argument ${positionals[0]}`);
    const log = createLogger({ name: 'token', level: config.logLevel });
    const db = await openDatabase(config, log);
    try {
      const site = await findSiteByHost(db.pool, config.site);
      if (!site) throw new VerityError('SITE_ERR_UNKNOWN', `no site has host ${config.site} (add it with: verity site add --host ${config.site} --origin URL)`);
      const { token } = await createJoinToken(db.pool, { siteId: site.id, uses: config.uses, ttlMs: config.ttl, value: config.value });
      io.stdout.write(`${token}\n`);
      return 0;
    } finally {
      await db.close();
    }
  });
}

export const tokenCommands: Record<string, Subcommand> = {
  create: { spec: tokenCreateProgram, run: runCreate },
};

export function runToken(argv: string[], io: ProgramIO): Promise<number> {
  return runGroup('token', tokenCommands, argv, io);
}
