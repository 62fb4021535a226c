import { z } from 'zod';
import { commandLogOptions, databaseOptions, httpUrl } from '../../common/config/shared.js';
import { defineProgram, option } from '../../common/config/options.js';
import { openDatabase } from '../../common/db/open.js';
import { logAdminAction } from '../../common/db/queries/admin-actions.js';
import { findSiteByHost } from '../../common/db/queries/sites.js';
import { createWebhook, listWebhooks, webhookFormats } from '../../common/db/queries/webhooks.js';
import { VerityError } from '../../common/errors.js';
import { createLogger } from '../../common/log.js';
import { runProgram, type ProgramIO } from '../../common/program.js';
import { cliActor } from './actor.js';
import { runGroup, type Subcommand } from './group.js';

export const webhookAddProgram = defineProgram({
  usage: 'verity webhook add --url URL [--site HOST] [--format verity|slack]',
  summary: 'Send notifications (node.quarantined, node.banned, node.offline, node.back, finding.critical, certificate.trouble, audit.backlog) to URL, signed with HMAC; prints the webhook id and its secret once.',
  options: {
    url: option({ flag: 'url', valueName: 'URL', description: 'where events are POSTed as JSON', schema: httpUrl }),
    site: option({ flag: 'site', valueName: 'HOST', description: "only this site's events (and its nodes'); unset: every event", schema: z.string().min(1).transform((h) => h.toLowerCase()).optional() }),
    format: option({ flag: 'format', valueName: 'verity|slack', description: 'verity: {event, at, site, node, reason}; slack: {text}, which Slack and Matrix (hookshot) incoming webhooks accept', default: 'verity', schema: z.enum(webhookFormats) }),
    ...databaseOptions,
    ...commandLogOptions,
  },
});

export const webhookListProgram = defineProgram({
  usage: 'verity webhook list',
  summary: 'List webhooks (never their secrets).',
  options: { ...databaseOptions, ...commandLogOptions },
});

function runAdd(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(webhookAddProgram, argv, io, async (config, positionals) => {
    if (positionals.length) throw new VerityError('CLI_ERR_USAGE', `unexpected argument ${positionals[0]}`);
    const db = await openDatabase(config, createLogger({ name: 'webhook', level: config.logLevel }));
    try {
      const site = config.site === undefined ? null : await findSiteByHost(db.pool, config.site);
      if (config.site !== undefined && !site) throw new VerityError('SITE_ERR_UNKNOWN', `no site has host ${config.site}`);
      const actor = cliActor();
      const { webhook, secret } = await createWebhook(db.pool, { siteId: site?.id ?? null, url: config.url, format: config.format, createdBy: actor });
      await logAdminAction(db.pool, { actor, action: 'webhook.add', targetKind: 'webhook', targetId: webhook.id, siteId: site?.id ?? null, detail: { url: config.url, site: site?.host ?? null } });
      io.stdout.write(`webhook: ${webhook.id}\nsecret: ${secret}\n`);
      return 0;
    } finally {
      await db.close();
    }
  });
}

function runList(argv: string[], io: ProgramIO): Promise<number> {
  return runProgram(webhookListProgram, argv, io, async (config) => {
    const db = await openDatabase(config, createLogger({ name: 'webhook', level: config.logLevel }));
    try {
      for (const w of await listWebhooks(db.pool, null)) io.stdout.write(`${w.id}  ${w.siteHost ?? '*'}  ${w.format}  ${w.url}\n`);
      return 0;
    } finally {
      await db.close();
    }
  });
}

export const webhookCommands: Record<string, Subcommand> = {
  add: { spec: webhookAddProgram, run: runAdd },
  list: { spec: webhookListProgram, run: runList },
};

export function runWebhook(argv: string[], io: ProgramIO): Promise<number> {
  return runGroup('webhook', webhookCommands, argv, io);
}
