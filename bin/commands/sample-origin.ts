import { listenAddress, logOptions } from '../../common/config/shared.js';
import { defineProgram, option } from '../../common/config/options.js';
import { runProgram, type ProgramIO } from '../../common/program.js';
import { startSampleOrigin } from '../../test/support/origin/index.js';

export const sampleOriginProgram = defineProgram({
  usage: 'verity sample-origin [--listen ADDR]',
  summary: 'Serve the sample site the demo and docker-compose use (pages, assets, dynamic parts, a private area).',
  options: {
    listen: option({ flag: 'listen', env: 'VERITY_ORIGIN_LISTEN', valueName: 'ADDR', description: 'where to serve the sample site', default: '127.0.0.1:9000', schema: listenAddress }),
    ...logOptions,
  },
});

export function runSampleOrigin(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(sampleOriginProgram, argv, io, async (config) => {
    const origin = await startSampleOrigin({ port: config.listen.port, host: config.listen.host });
    io.stdout.write(`sample origin: ${origin.url}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve());
      process.once('SIGINT', () => resolve());
    });
    await origin.close();
    return 0;
  });
}
