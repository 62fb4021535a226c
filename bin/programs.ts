import { homedir } from 'node:os';
import type { OptionsSpec, ProgramSpec } from '../common/config/options.js';
import { auditorProgram } from '../auditor/config.js';
import { balancerProgram } from '../balancer/config.js';
import { nodeProgram } from '../node/config.js';
import { migrateProgram } from './commands/migrate.js';
import { sampleOriginProgram } from './commands/sample-origin.js';
import { nodeActionProgram } from './commands/node-admin.js';
import { siteAddProgram, siteListProgram } from './commands/site.js';
import { tokenCreateProgram } from './commands/token.js';
import { userAddProgram, userListProgram } from './commands/user.js';
import { webhookAddProgram, webhookListProgram } from './commands/webhook.js';
import { demoProgram } from './demo/config.js';

/** Every command line and its option schema: the source of the configuration reference. */
export const programs: { command: string; spec: ProgramSpec<OptionsSpec> }[] = [
  { command: 'demo', spec: demoProgram },
  { command: 'balancer', spec: balancerProgram },
  { command: 'auditor', spec: auditorProgram },
  { command: 'node', spec: nodeProgram },
  { command: 'site add', spec: siteAddProgram },
  { command: 'site list', spec: siteListProgram },
  { command: 'token create', spec: tokenCreateProgram },
  { command: 'webhook add', spec: webhookAddProgram },
  { command: 'webhook list', spec: webhookListProgram },
  { command: 'user add', spec: userAddProgram },
  { command: 'user list', spec: userListProgram },
  { command: 'node quarantine', spec: nodeActionProgram('quarantine') },
  { command: 'node reinstate', spec: nodeActionProgram('reinstate') },
  { command: 'node ban', spec: nodeActionProgram('ban') },
  { command: 'migrate', spec: migrateProgram },
  { command: 'sample-origin', spec: sampleOriginProgram },
] as { command: string; spec: ProgramSpec<OptionsSpec> }[];

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** docs/configuration.md, generated from the schemas (a test fails when the two drift). */
export function renderConfigReference(): string {
  const out = [
    '# Configuration reference',
    '',
    'Generated from the option schemas by `npm run docs:config`; a test fails when this file and the',
    'schemas drift. Every option can be given as a flag, as its environment variable, or as a key in',
    'the YAML/JSON file named by `VERITY_CONFIG` (keys mirror the flags). Precedence: flag > env >',
    'file > default. Invalid values are all reported at once and the command exits with code 2.',
    '',
  ];
  for (const { command, spec } of programs) {
    out.push(`## \`verity ${command}\``, '', spec.summary, '', '| flag | env | default | meaning |', '| --- | --- | --- | --- |');
    for (const o of Object.values(spec.options)) {
      const flag = `\`--${o.flag}${o.valueName && !o.boolean ? ` ${o.valueName}` : ''}\``;
      const def = o.defaultLabel ?? (o.default === undefined ? '—' : `\`${String(o.default).replace(homedir(), '~')}\``);
      out.push(`| ${cell(flag)} | ${o.env ? `\`${o.env}\`` : '—'} | ${cell(def)} | ${cell(o.description)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
