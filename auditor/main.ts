import { runProgram, type ProgramIO } from '../common/program.js';
import { auditorProgram } from './config.js';

export function run(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(auditorProgram, argv, io, async () => {
    io.stderr.write('verity auditor: not built yet\n');
    return 1;
  });
}
