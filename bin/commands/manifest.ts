import { z } from 'zod';
import { databaseOptions, logOptions } from '../../common/config/shared.js';
import { defineProgram, option } from '../../common/config/options.js';
import { openDatabase } from '../../common/db/open.js';
import { replaceManifest } from '../../common/db/queries/manifests.js';
import { findSiteByHost } from '../../common/db/queries/sites.js';
import { VerityError } from '../../common/errors.js';
import { createLogger } from '../../common/log.js';
import { buildManifest } from '../../common/manifest/build.js';
import { runProgram, type ProgramIO } from '../../common/program.js';

export const manifestProgram = defineProgram({
  usage: 'verity manifest --site HOST DIR',
  summary: "Hash a deploy's build folder (path → sha256, size, 1 MiB piece digests) and publish it for the site, replacing its previous manifest.",
  options: {
    site: option({ flag: 'site', valueName: 'HOST', description: 'the registered site this folder is deployed to', schema: z.string().min(1, 'is required').transform((h) => h.trim().toLowerCase()) }),
    ...databaseOptions,
    ...logOptions,
  },
});

export function runManifest(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(manifestProgram, argv, io, async (config, positionals) => {
    const [dir, ...extra] = positionals;
    if (!dir || extra.length > 0) throw new VerityError('CLI_ERR_USAGE', `${manifestProgram.usage}: give exactly one build folder`);
    const log = createLogger({ name: 'manifest', level: config.logLevel });
    // Progress on a terminal only (a deploy script's log stays clean).
    const progress = (io.stderr as { isTTY?: boolean }).isTTY === true;
    const manifest = await buildManifest(dir, progress ? (_path, done) => void (done % 50 === 0 && io.stderr.write(`\rhashed ${done} files`)) : undefined).catch((err: unknown) => {
      throw new VerityError('CLI_ERR_USAGE', `${dir}: ${(err as Error).message}`);
    });
    if (progress) io.stderr.write('\r');
    const db = await openDatabase(config, log);
    try {
      const site = await findSiteByHost(db.pool, config.site);
      if (!site) throw new VerityError('SITE_ERR_UNKNOWN', `no site ${config.site} (verity site list)`);
      const n = await replaceManifest(db.pool, site.id, manifest);
      io.stdout.write(`published ${n} paths for ${site.host}\n`);
      return 0;
    } finally {
      await db.close();
    }
  });
}
