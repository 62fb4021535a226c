import { z } from 'zod';
import { commaList, commandLogOptions, databaseOptions, httpUrl } from '../../common/config/shared.js';
import { defineProgram, option } from '../../common/config/options.js';
import { generatePassword, hashPassword } from '../../common/auth/password.js';
import { openDatabase } from '../../common/db/open.js';
import { logAdminAction } from '../../common/db/queries/admin-actions.js';
import { findSiteByHost } from '../../common/db/queries/sites.js';
import { createLoginLink, createUser, listUsers, roles } from '../../common/db/queries/users.js';
import { VerityError } from '../../common/errors.js';
import { createLogger } from '../../common/log.js';
import { runProgram, type ProgramIO } from '../../common/program.js';
import { cliActor } from './actor.js';
import { runGroup, type Subcommand } from './group.js';

const LINK_TTL_MS = 24 * 3600_000;

export const userAddProgram = defineProgram({
  usage: 'verity user add --email E --role admin|owner [--site HOST,...] [--dashboard-url URL]',
  summary: 'Add an account: admins see and do everything, owners manage their own sites. Prints a one-time login link (with --dashboard-url) or a password, once.',
  options: {
    email: option({ flag: 'email', valueName: 'E', description: 'the e-mail address they log in with (and receive notifications at)', schema: z.string().trim().toLowerCase().pipe(z.email('must be an e-mail address')) }),
    role: option({ flag: 'role', valueName: 'admin|owner', description: 'admin: everything; owner: their own sites', schema: z.enum(roles) }),
    sites: option({ flag: 'site', valueName: 'HOST,...', description: "an owner's sites (they may add more themselves, with an ownership check)", default: '', schema: commaList }),
    dashboardUrl: option({ flag: 'dashboard-url', env: 'VERITY_DASHBOARD_URL', valueName: 'URL', description: 'the dashboard as people reach it: print a one-time login link (valid 24h) instead of a password', schema: httpUrl.optional() }),
    ...databaseOptions,
    ...commandLogOptions,
  },
  check: (c) => (c.role === 'admin' && c.sites.length > 0 ? ['--site is for owners: an admin has every site'] : []),
});

export const userListProgram = defineProgram({
  usage: 'verity user list',
  summary: 'List accounts, their roles and sites.',
  options: { ...databaseOptions, ...commandLogOptions },
});

function runAdd(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(userAddProgram, argv, io, async (config, positionals) => {
    if (positionals.length) throw new VerityError('CLI_ERR_USAGE', `unexpected argument ${positionals[0]}`);
    const db = await openDatabase(config, createLogger({ name: 'user', level: config.logLevel }));
    try {
      const siteIds: string[] = [];
      for (const host of config.sites) {
        const site = await findSiteByHost(db.pool, host);
        if (!site) throw new VerityError('SITE_ERR_UNKNOWN', `no site has host ${host} (add it with: verity site add --host ${host} --origin URL)`);
        siteIds.push(site.id);
      }
      const actor = cliActor();
      const password = config.dashboardUrl ? null : generatePassword();
      const user = await createUser(db.pool, { email: config.email, role: config.role, siteIds, createdBy: actor, passwordHash: password ? await hashPassword(password) : null });
      await logAdminAction(db.pool, { actor, action: 'user.add', targetKind: 'user', targetId: user.email, detail: { role: user.role, sites: config.sites } });
      io.stdout.write(`user: ${user.id} ${user.email} (${user.role}${config.sites.length ? `: ${config.sites.join(', ')}` : ''})\n`);
      if (password) io.stdout.write(`password: ${password}\n(shown once: they log in at the dashboard with their e-mail and this password, and can change it there)\n`);
      else {
        const link = await createLoginLink(db.pool, user.id, LINK_TTL_MS, new Date());
        io.stdout.write(`login link: ${(config.dashboardUrl ?? '').replace(/\/+$/, '')}/login/link/${link}\n(works once, for 24 hours: it logs them in and asks them to choose a password)\n`);
      }
      return 0;
    } finally {
      await db.close();
    }
  });
}

function runList(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(userListProgram, argv, io, async (config) => {
    const db = await openDatabase(config, createLogger({ name: 'user', level: config.logLevel }));
    try {
      const hosts = new Map((await db.pool.query<{ id: string; host: string }>('SELECT id::text, host FROM sites')).rows.map((r) => [r.id, r.host]));
      for (const u of await listUsers(db.pool)) io.stdout.write(`${u.id}  ${u.email}  ${u.role}  ${u.siteIds.map((s) => hosts.get(s) ?? s).join(',') || '-'}\n`);
      return 0;
    } finally {
      await db.close();
    }
  });
}

export const userCommands: Record<string, Subcommand> = {
  add: { spec: userAddProgram, run: runAdd },
  list: { spec: userListProgram, run: runList },
};

export function runUser(argv: string[], io: ProgramIO): Promise<number> {
  return runGroup('user', userCommands, argv, io);
}
