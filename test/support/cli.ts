import type { ProgramIO } from '../../common/program.js';
import { run } from '../../bin/cli.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the verity CLI in-process with its own env and captured output. */
export async function runCli(argv: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: ProgramIO = {
    env: { VERITY_LOG_LEVEL: 'warn', ...env },
    stdout: { write: (c: string) => (stdout += c) },
    stderr: { write: (c: string) => (stderr += c) },
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}
