import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

export const VERITY_BIN = fileURLToPath(new URL('../../bin/verity', import.meta.url));

/**
 * Runs the real `verity` executable, as a person at a shell would, and waits for it to exit
 * (killed after timeoutMs). The environment is the test's, minus anything that would point it
 * at another database or config, plus `env`.
 */
export function spawnCli(argv: string[], env: Record<string, string | undefined> = {}, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VERITY_BIN, ...argv], {
      cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DATABASE_URL: undefined, VERITY_CONFIG: undefined, VERITY_LOG_LEVEL: 'warn', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr });
    });
  });
}

/** Lines of a stack trace ("    at fn (file:1:2)"): a person should never see one after a clear error. */
export function stackLines(text: string): string[] {
  return text.split('\n').filter((l) => /^\s+at\s/.test(l));
}
