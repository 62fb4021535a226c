import { runProgram, type ProgramIO } from '../../common/program.js';
import { demoProgram } from './config.js';

export function run(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(demoProgram, argv, io, async () => {
    io.stderr.write('verity demo: not built yet\n');
    return 1;
  });
}
