import type { ProgramIO } from '../../common/program.js';

/** "starting X … ok (1.2 s)" lines, so a person watching knows what the demo is waiting on. */
export function createProgress(io: ProgramIO) {
  let n = 0;
  return {
    async step<T>(label: string, fn: () => Promise<T>): Promise<T> {
      n++;
      const t0 = Date.now();
      io.stdout.write(`[${n}] starting ${label} … `);
      try {
        const result = await fn();
        io.stdout.write(`ok (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
        return result;
      } catch (err) {
        io.stdout.write('FAILED\n');
        throw err;
      }
    },
  };
}
