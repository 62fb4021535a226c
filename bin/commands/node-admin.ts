import { z } from 'zod';
import { databaseOptions, commandLogOptions } from '../../common/config/shared.js';
import { defineProgram, option } from '../../common/config/options.js';
import { openDatabase } from '../../common/db/open.js';
import { applyNodeAction, type NodeAction } from '../../common/db/queries/admin-actions.js';
import { score } from '../../common/domain/trust.js';
import { VerityError } from '../../common/errors.js';
import { createLogger } from '../../common/log.js';
import { runProgram, type ProgramIO } from '../../common/program.js';

export function nodeActionProgram(action: NodeAction) {
  return defineProgram({
    usage: `verity node ${action} ID --reason TEXT`,
    summary: `${action[0]?.toUpperCase()}${action.slice(1)} a node; recorded in the admin log and as a trust event every balancer hears of.`,
    options: {
      reason: option({ flag: 'reason', valueName: 'TEXT', description: 'why (required: shown to admins and to the volunteer)', schema: z.string().trim().min(1, 'must say why') }),
      ...databaseOptions,
      ...commandLogOptions,
    },
  });
}

export function runNodeAction(action: NodeAction, argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(nodeActionProgram(action), argv, io, async (config, positionals) => {
    const [id, extra] = positionals;
    if (!id || extra) throw new VerityError('CLI_ERR_USAGE', `verity node ${action} takes exactly one node id`);
    const log = createLogger({ name: 'node-admin', level: config.logLevel });
    const db = await openDatabase(config, log);
    try {
      const state = await applyNodeAction(db.pool, id, action, config.reason, 'cli');
      io.stdout.write(`node ${id}: ${state.status} (integrity ${score(state.integrity).toFixed(3)})\n`);
      return 0;
    } finally {
      await db.close();
    }
  });
}
