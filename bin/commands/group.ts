import type { OptionsSpec, ProgramSpec } from '../../common/config/options.js';
import type { ProgramIO } from '../../common/program.js';

/** One subcommand of a command group (`verity site add`, `verity token create`). */
export interface Subcommand {
  spec: Pick<ProgramSpec<OptionsSpec>, 'usage' | 'summary'>;
  run: (argv: string[], io: ProgramIO) => Promise<number>;
}

/** The lines --help prints for a group: each subcommand's usage and summary. */
export function groupHelp(name: string, subs: Record<string, Subcommand>): string {
  const rows = Object.values(subs).map((s) => `  ${s.spec.usage}\n      ${s.spec.summary}`);
  return [`Usage: verity ${name} <subcommand> [options]`, '', 'Subcommands:', ...rows, '', `Each subcommand takes --help, e.g. verity ${name} ${Object.keys(subs)[0] ?? ''} --help.`, ''].join('\n');
}

/**
 * `verity NAME SUB …`: runs SUB; `--help` (or `help`) lists the subcommands with exit 0; none or
 * an unknown one says so in one line, lists them, and exits 2.
 */
export async function runGroup(name: string, subs: Record<string, Subcommand>, argv: string[], io: ProgramIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(groupHelp(name, subs));
    return 0;
  }
  const found = sub === undefined ? undefined : subs[sub];
  if (found) return found.run(rest, io);
  const why = sub === undefined ? `verity ${name} needs a subcommand` : `verity ${name}: unknown subcommand "${sub}"`;
  io.stderr.write(`${why} (${Object.keys(subs).join(', ')}; see verity ${name} --help)\n`);
  return 2;
}
