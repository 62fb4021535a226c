import { spawn, type ChildProcess } from 'node:child_process';

export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout match of `re` (its first group). */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

/** A real child process with captured output (for process-level tests). */
export function startChild(args: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (proc.exitCode === null) proc.kill(signal);
    },
    waitForLine: (re, timeoutMs = 30_000) => new Promise((resolve, reject) => {
      const until = Date.now() + timeoutMs;
      const check = (): void => {
        const m = re.exec(out);
        if (m) return resolve(m[1] ?? m[0]);
        if (proc.exitCode !== null) return reject(new Error(`process exited (${proc.exitCode}): ${err.slice(-2000)}`));
        if (Date.now() > until) return reject(new Error(`no line ${re} in time; stderr: ${err.slice(-2000)}`));
        setTimeout(check, 50);
      };
      check();
    }),
  };
}
