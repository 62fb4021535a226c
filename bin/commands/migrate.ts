import { databaseOptions, commandLogOptions } from '../../common/config/shared.js';
import { defineProgram } from '../../common/config/options.js';
import { openDatabase } from '../../common/db/open.js';
import { createLogger } from '../../common/log.js';
import { runProgram, type ProgramIO } from '../../common/program.js';

export const migrateProgram = defineProgram({
  usage: 'verity migrate [options]',
  summary: 'Bring the database schema up to date (servers also do this at start).',
  options: { ...databaseOptions, ...commandLogOptions },
});

export function runMigrate(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(migrateProgram, argv, io, async (config) => {
    const log = createLogger({ name: 'migrate', level: config.logLevel });
    const db = await openDatabase(config, log, { migrate: false });
    try {
      const { migrate } = await import('../../common/db/migrate.js');
      const applied = await migrate(db.pool, log);
      io.stdout.write(applied.length ? `applied migrations: ${applied.join(', ')}\n` : 'schema is up to date\n');
      return 0;
    } finally {
      await db.close();
    }
  });
}
