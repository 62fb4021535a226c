import { describeError, isVerityError } from './errors.js';
import { loadConfig, renderHelp, type ConfigOf, type OptionsSpec, type ProgramSpec } from './config/options.js';

export interface ProgramIO {
  env: Readonly<Record<string, string | undefined>>;
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

export const processIO: ProgramIO = { env: process.env, stdout: process.stdout, stderr: process.stderr };

/**
 * The edge every command goes through: --help, config validated once (bad config → one line,
 * exit 2), and any error → one line, exit 1. A person reads one clear line, never a stack
 * trace after it; the stack of an unexpected error is shown at --log-level debug or trace.
 */
export async function runProgram<S extends OptionsSpec>(
  spec: ProgramSpec<S>,
  argv: readonly string[],
  io: ProgramIO,
  body: (config: ConfigOf<S>, positionals: string[]) => Promise<number>,
): Promise<number> {
  let loaded;
  try {
    loaded = loadConfig(spec, { argv, env: io.env });
  } catch (err) {
    io.stderr.write(`${describeError(err)}\n`);
    return 2;
  }
  if (loaded.help) {
    io.stdout.write(renderHelp(spec));
    return 0;
  }
  try {
    return await body(loaded.config, loaded.positionals);
  } catch (err) {
    if (isVerityError(err)) {
      io.stderr.write(`error ${err.code}: ${err.message}\n`);
      return err.code === 'CFG_ERR_INVALID' || err.code === 'CLI_ERR_USAGE' ? 2 : 1;
    }
    const level = (loaded.config as { logLevel?: unknown }).logLevel;
    const withStack = (level === 'debug' || level === 'trace') && err instanceof Error && err.stack;
    io.stderr.write(`error: ${withStack ? err.stack : describeError(err).split('\n')[0]}\n`);
    return 1;
  }
}
