import { runProgram, type ProgramIO } from '../common/program.js';
import { nodeProgram } from './config.js';

export function run(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(nodeProgram, argv, io, async () => {
    io.stderr.write('verity node: not built yet\n');
    return 1;
  });
}
