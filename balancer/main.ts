import { runProgram, type ProgramIO } from '../common/program.js';
import { balancerProgram } from './config.js';

export function run(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(balancerProgram, argv, io, async () => {
    io.stderr.write('verity balancer: not built yet\n');
    return 1;
  });
}
