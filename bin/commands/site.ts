import { z } from 'zod';
import { commandLogOptions, databaseOptions, httpUrl, routeGlobs } from '../../common/config/shared.js';
import { defineProgram, option } from '../../common/config/options.js';
import { openDatabase } from '../../common/db/open.js';
import { insertSite, listSites } from '../../common/db/queries/sites.js';
import { VerityError } from '../../common/errors.js';
import { createLogger } from '../../common/log.js';
import { runProgram, type ProgramIO } from '../../common/program.js';
import { runGroup, type Subcommand } from './group.js';

const hostName = z
  .string()
  .transform((h) => h.trim().toLowerCase())
  .pipe(z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/, 'must be a host name like www.example.org'));

export const siteAddProgram = defineProgram({
  usage: 'verity site add --host HOST --origin URL [--private GLOB,...] [--public GLOB,...] [--dynamic origin|sampled]',
  summary: 'Register a site: visitors asking for HOST are served from volunteer nodes (what ORIGIN publishes as public) and ORIGIN.',
  options: {
    host: option({ flag: 'host', valueName: 'HOST', description: 'host name visitors use (DNS points at a balancer)', schema: hostName }),
    origin: option({ flag: 'origin', valueName: 'URL', description: "the owner's own server", schema: httpUrl.transform((u) => u.replace(/\/+$/, '')) }),
    privateRoutes: option({ flag: 'private', valueName: 'GLOB,...', description: 'URL path globs, each starting with /, only the origin may serve, whatever it says (login, account, API…; a glob also covers other spellings: /login/, /login;x, /login.json)', default: '', schema: routeGlobs('private') }),
    publicRoutes: option({ flag: 'public', valueName: 'GLOB,...', description: 'if set, only paths matching these globs (each starting with /) may ever be served by nodes (the origin must still publish them)', default: '', schema: routeGlobs('public') }),
    dynamicPolicy: option({ flag: 'dynamic', valueName: 'origin|sampled', description: 'pages whose bytes change between origin fetches: served by the origin (origin), or by nodes, judged by shadow sampling and audits after the fact (sampled)', default: 'origin', schema: z.enum(['origin', 'sampled']) }),
    integrityManifest: option({ flag: 'integrity-manifest', valueName: 'URL', description: 'optional URL of a JSON {path: sha256} manifest of static files', schema: httpUrl.optional() }),
    ...databaseOptions,
    ...commandLogOptions,
  },
});

export const siteListProgram = defineProgram({
  usage: 'verity site list',
  summary: 'List registered sites.',
  options: { ...databaseOptions, ...commandLogOptions },
});

function runAdd(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(siteAddProgram, argv, io, async (config, positionals) => {
    if (positionals.length) throw new VerityError('CLI_ERR_USAGE', `unexpected argument ${positionals[0]}`);
    const log = createLogger({ name: 'site', level: config.logLevel });
    const db = await openDatabase(config, log);
    try {
      const site = await insertSite(db.pool, {
        host: config.host, origin: config.origin, privateRoutes: config.privateRoutes, publicRoutes: config.publicRoutes, dynamicPolicy: config.dynamicPolicy,
        integrityManifestUrl: config.integrityManifest ?? null,
      });
      io.stdout.write(`${site.id}\n`);
      return 0;
    } finally {
      await db.close();
    }
  });
}

function runList(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(siteListProgram, argv, io, async (config) => {
    const log = createLogger({ name: 'site', level: config.logLevel });
    const db = await openDatabase(config, log);
    try {
      for (const s of await listSites(db.pool)) {
        io.stdout.write(`${s.id}  ${s.host}  ${s.origin}  private=${s.privateRoutes.join(',') || '-'}  public=${s.publicRoutes.join(',') || '*'}  dynamic=${s.dynamicPolicy}\n`);
      }
      return 0;
    } finally {
      await db.close();
    }
  });
}

export const siteCommands: Record<string, Subcommand> = {
  add: { spec: siteAddProgram, run: runAdd },
  list: { spec: siteListProgram, run: runList },
};

export function runSite(argv: string[], io: ProgramIO): Promise<number> {
  return runGroup('site', siteCommands, argv, io);
}
