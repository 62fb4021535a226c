import { runProgram, type ProgramIO } from '../common/program.js';
import { nodeProgram } from './config.js';
import { runNode } from './run-node.js';

export function run(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(nodeProgram, argv, io, async (config) => {
    // SIGTERM/SIGINT: drain (tell the balancer, finish in-flight requests), then exit 0.
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    try {
      return await runNode(config, { io, signal: stop.signal });
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  });
}
