import { z } from 'zod';
import { commandLogOptions, databaseOptions, durationMs, httpUrl, routeGlobs } from '../../common/config/shared.js';
import { defineProgram, option } from '../../common/config/options.js';
import { openDatabase } from '../../common/db/open.js';
import { findSiteByHost, insertSite, listSites } from '../../common/db/queries/sites.js';
import { VerityError } from '../../common/errors.js';
import { createLogger } from '../../common/log.js';
import { runProgram, type ProgramIO } from '../../common/program.js';
import { runGroup, type Subcommand } from './group.js';
import { readOwnCertificate, storeOwnCertificate } from './site-certificate.js';

const hostName = z
  .string()
  .transform((h) => h.trim().toLowerCase())
  .pipe(z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/, 'must be a host name like www.example.org'));

export const siteAddProgram = defineProgram({
  usage: 'verity site add --host HOST --origin URL [--private GLOB,...] [--public GLOB,...] [--dynamic origin|sampled] [--cert FILE --key FILE] [--https-redirect] [--hsts DURATION]',
  summary: 'Register a site: visitors asking for HOST are served from volunteer nodes (what ORIGIN publishes as public) and ORIGIN.',
  options: {
    host: option({ flag: 'host', valueName: 'HOST', description: 'host name visitors use (DNS points at a balancer)', schema: hostName }),
    origin: option({ flag: 'origin', valueName: 'URL', description: "the owner's own server", schema: httpUrl.transform((u) => u.replace(/\/+$/, '')) }),
    privateRoutes: option({ flag: 'private', valueName: 'GLOB,...', description: 'URL path globs, each starting with /, only the origin may serve, whatever it says (login, account, API…; a glob also covers other spellings: /login/, /login;x, /login.json)', default: '', schema: routeGlobs('private') }),
    publicRoutes: option({ flag: 'public', valueName: 'GLOB,...', description: 'if set, only paths matching these globs (each starting with /) may ever be served by nodes (the origin must still publish them)', default: '', schema: routeGlobs('public') }),
    dynamicPolicy: option({ flag: 'dynamic', valueName: 'origin|sampled', description: 'pages whose bytes change between origin fetches: served by the origin (origin), or by nodes, judged by shadow sampling and audits after the fact (sampled)', default: 'origin', schema: z.enum(['origin', 'sampled']) }),
    integrityManifest: option({ flag: 'integrity-manifest', valueName: 'URL', description: 'optional URL of a JSON {path: sha256} manifest of static files', schema: httpUrl.optional() }),
    cert: option({ flag: 'cert', valueName: 'FILE', description: "the site's own certificate chain (PEM), served on --tls-listen instead of an ACME one; given again for a registered host, it replaces the stored one", schema: z.string().min(1).optional() }),
    key: option({ flag: 'key', valueName: 'FILE', description: 'the private key of --cert (PEM); stored sealed with --tls-secret', schema: z.string().min(1).optional() }),
    httpsRedirect: option({ flag: 'https-redirect', description: 'send plain-HTTP visitors to HTTPS (308)', boolean: true, default: false, schema: z.boolean() }),
    hsts: option({ flag: 'hsts', valueName: 'DURATION', description: 'Strict-Transport-Security max-age sent on HTTPS answers, e.g. 365d (unset: none)', schema: durationMs.optional() }),
    tlsSecret: option({ flag: 'tls-secret', env: 'VERITY_TLS_SECRET', valueName: 'SECRET', description: "the balancers' secret that seals private keys in the database (needed with --cert)", schema: z.string().min(32, 'must be at least 32 characters').optional() }),
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
    const owned = await readOwnCertificate(config);
    const log = createLogger({ name: 'site', level: config.logLevel });
    const db = await openDatabase(config, log);
    try {
      const existing = owned ? await findSiteByHost(db.pool, config.host) : null;
      // Given again for a registered host (same origin), --cert/--key replace its certificate.
      if (existing && existing.origin !== config.origin) throw new VerityError('SITE_ERR_EXISTS', `a site with host ${config.host} already exists with origin ${existing.origin}`);
      const site = existing ?? await insertSite(db.pool, {
        host: config.host, origin: config.origin, privateRoutes: config.privateRoutes, publicRoutes: config.publicRoutes, dynamicPolicy: config.dynamicPolicy,
        integrityManifestUrl: config.integrityManifest ?? null, httpsRedirect: config.httpsRedirect, hstsMaxAgeS: config.hsts === undefined ? null : Math.round(config.hsts / 1000),
      });
      if (owned) await storeOwnCertificate(db.pool, site.id, owned);
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
