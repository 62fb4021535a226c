import type { ProgramIO } from '../common/program.js';
import { processIO } from '../common/program.js';
import { nodeActions, type NodeAction } from '../common/db/queries/admin-actions.js';

// Programs are imported lazily: `verity site add` must not load puppeteer or fastify.
const commands: Record<string, { summary: string; run: (argv: string[], io: ProgramIO) => Promise<number> }> = {
  demo: { summary: 'the whole system on this machine (what npm start runs)', run: async (a, io) => (await import('./demo/main.js')).run(a, io) },
  balancer: { summary: 'public proxy and control plane', run: async (a, io) => (await import('../balancer/main.js')).run(a, io) },
  auditor: { summary: 'audit worker', run: async (a, io) => (await import('../auditor/main.js')).run(a, io) },
  node: { summary: 'volunteer node; or node quarantine|reinstate|ban ID --reason TEXT', run: runNode },
  site: { summary: 'site add --host HOST --origin URL [--private GLOB,...] [--public GLOB,...] [--dynamic origin|sampled]; site list', run: async (a, io) => (await import('./commands/site.js')).runSite(a, io) },
  manifest: { summary: "manifest --site HOST DIR: publish a deploy's file digests", run: async (a, io) => (await import('./commands/manifest.js')).runManifest(a, io) },
  token: { summary: 'token create --site HOST [--uses N] [--ttl DURATION]', run: async (a, io) => (await import('./commands/token.js')).runToken(a, io) },
  'sample-origin': { summary: 'serve the sample site used by the demo and docker-compose', run: async (a, io) => (await import('./commands/sample-origin.js')).runSampleOrigin(a, io) },
  migrate: { summary: 'bring the database schema up to date', run: async (a, io) => (await import('./commands/migrate.js')).runMigrate(a, io) },
};

/** `verity node ACTION ID …` is an admin action; `verity node --flags` runs a node; any other word is a mistake. */
async function runNode(argv: string[], io: ProgramIO): Promise<number> {
  const [first, ...rest] = argv;
  if (first && (nodeActions as readonly string[]).includes(first)) {
    return (await import('./commands/node-admin.js')).runNodeAction(first as NodeAction, rest, io);
  }
  if (first !== undefined && !first.startsWith('-')) {
    io.stderr.write(`verity node: unknown subcommand "${first}" (${nodeActions.join(', ')} take ID --reason TEXT; to run a node give only flags; see verity node --help)\n`);
    return 2;
  }
  return (await import('../node/main.js')).run(argv, io);
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length)) + 2;
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return ['Usage: verity <command> [options]', '', 'Commands:', ...rows, '', 'Every command takes --help.', ''].join('\n');
}

export async function run(argv: string[], io: ProgramIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    io.stderr.write(`verity: unknown command "${name}" (try verity --help)\n`);
    return 2;
  }
  return command.run(rest, io);
}
