import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { VerityError } from '../errors.js';

/**
 * One option of a program: where it comes from (flag, env, config file key) and what it must
 * look like. Precedence is flag > env > file > default; values are validated once, every
 * problem reported at once, and the result is frozen.
 */
export interface OptionSpec<S extends z.ZodType = z.ZodType> {
  flag: string;
  env?: string;
  description: string;
  /** Placeholder shown in --help, e.g. ADDR. Omitted for booleans. */
  valueName?: string;
  default?: z.input<S>;
  /** Shown in --help instead of the default value (e.g. "generated"). */
  defaultLabel?: string;
  boolean?: boolean;
  schema: S;
}

export type OptionsSpec = Record<string, OptionSpec>;
export type ConfigOf<S extends OptionsSpec> = { readonly [K in keyof S]: z.output<S[K]['schema']> };

export interface ProgramSpec<S extends OptionsSpec> {
  /** e.g. "verity balancer" */
  usage: string;
  summary: string;
  options: S;
  /** Extra lines at the end of --help (e.g. a command's subcommands). */
  helpFooter?: string;
  /** Cross-field checks, run after each field is valid. Return problems, not throw. */
  check?: (config: ConfigOf<S>) => string[];
}

export interface ConfigInput {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
}

export interface Loaded<S extends OptionsSpec> {
  config: ConfigOf<S>;
  positionals: string[];
  help: boolean;
}

export function option<S extends z.ZodType>(spec: OptionSpec<S>): OptionSpec<S> {
  return spec;
}

export function defineProgram<S extends OptionsSpec>(spec: ProgramSpec<S>): ProgramSpec<S> {
  return spec;
}

interface ParsedArgv {
  flags: Map<string, string | boolean>;
  positionals: string[];
  help: boolean;
  problems: string[];
}

function parseArgv(argv: readonly string[], options: OptionsSpec): ParsedArgv {
  const byFlag = new Map(Object.values(options).map((o) => [o.flag, o]));
  const out: ParsedArgv = { flags: new Map(), positionals: [], help: false, problems: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') {
      out.help = true;
      continue;
    }
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let negated = false;
    if (!byFlag.has(name) && name.startsWith('no-') && byFlag.get(name.slice(3))?.boolean) {
      name = name.slice(3);
      negated = true;
    }
    const spec = byFlag.get(name);
    if (!spec) {
      out.problems.push(`unknown option --${name}`);
      continue;
    }
    if (spec.boolean) {
      out.flags.set(name, eq === -1 ? !negated : arg.slice(eq + 1));
      continue;
    }
    if (eq !== -1) {
      out.flags.set(name, arg.slice(eq + 1));
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined || (next.startsWith('--') && next.length > 2)) {
      out.problems.push(`--${name} needs a value`);
      continue;
    }
    out.flags.set(name, next);
    i++;
  }
  return out;
}

function readConfigFile(path: string): { values: Record<string, unknown>; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { values: {}, problems: [`config file ${path} cannot be read: ${(err as Error).message}`] };
  }
  try {
    const parsed: unknown = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (parsed === null || parsed === undefined) return { values: {}, problems: [] };
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      return { values: {}, problems: [`config file ${path} must hold a mapping of option names to values`] };
    }
    return { values: parsed as Record<string, unknown>, problems: [] };
  } catch (err) {
    return { values: {}, problems: [`config file ${path} is not valid YAML or JSON: ${(err as Error).message}`] };
  }
}

function fileValue(values: Record<string, unknown>, key: string, flag: string): unknown {
  // Config file keys mirror the flags; the camelCase field name is accepted too.
  return values[flag] ?? values[key];
}

function booleanFrom(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  return raw;
}

/** "verity node ban ID [--reason TEXT]" → "verity node ban": the words before the first placeholder or flag. */
export function commandOf(usage: string): string {
  const words: string[] = [];
  for (const w of usage.split(/\s+/)) {
    if (w === '' || w.startsWith('-') || w.startsWith('[') || w.startsWith('<') || /^[A-Z]/.test(w)) break;
    words.push(w);
  }
  return words.join(' ');
}

function flagLabel(spec: OptionSpec): string {
  return `--${spec.flag}${spec.valueName && !spec.boolean ? ` ${spec.valueName}` : ''}`;
}

/**
 * One problem in words a person can act on: a missing flag says so (not "expected string,
 * received undefined"), and the source is named when the value did not come from the flag.
 */
function describeProblem(spec: OptionSpec, source: string, raw: unknown, message: string): string {
  if (raw === undefined && source === 'default') return `${flagLabel(spec)} is missing`;
  const from = source === 'flag' ? '' : ` (from ${source})`;
  return `--${spec.flag}${from}: ${message}`;
}

/**
 * Builds a program's configuration from argv, env and the optional config file. Throws one
 * CFG_ERR_INVALID error listing every problem; the CLI prints it and exits with code 2.
 */
export function loadConfig<S extends OptionsSpec>(program: ProgramSpec<S>, input: ConfigInput): Loaded<S> {
  const argv = parseArgv(input.argv, program.options);
  const problems = [...argv.problems];
  const configPath = input.env.VERITY_CONFIG;
  const file = configPath ? readConfigFile(configPath) : { values: {}, problems: [] };
  problems.push(...file.problems);
  const result: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(program.options)) {
    let raw: unknown;
    let source = 'default';
    if (argv.flags.has(spec.flag)) {
      raw = argv.flags.get(spec.flag);
      source = 'flag';
    } else if (spec.env && input.env[spec.env] !== undefined && input.env[spec.env] !== '') {
      raw = input.env[spec.env];
      source = `env ${spec.env}`;
    } else if (fileValue(file.values, key, spec.flag) !== undefined) {
      raw = fileValue(file.values, key, spec.flag);
      source = `config file ${configPath}`;
    } else {
      raw = spec.default;
    }
    if (spec.boolean) raw = booleanFrom(raw);
    const parsed = spec.schema.safeParse(raw);
    if (parsed.success) result[key] = parsed.data;
    else problems.push(describeProblem(spec, source, raw, parsed.error.issues[0]?.message ?? 'invalid value'));
  }
  if (problems.length === 0 && program.check) problems.push(...program.check(result as ConfigOf<S>));
  if (problems.length > 0 && !argv.help) {
    const command = commandOf(program.usage);
    throw new VerityError('CFG_ERR_INVALID', `${command}: ${problems.join('; ')} (see ${command} --help)`);
  }
  return { config: Object.freeze(result) as ConfigOf<S>, positionals: argv.positionals, help: argv.help };
}

export function renderHelp<S extends OptionsSpec>(program: ProgramSpec<S>): string {
  const rows = Object.values(program.options).map((o) => {
    const left = `  --${o.flag}${o.valueName && !o.boolean ? ` ${o.valueName}` : ''}`;
    const def = o.defaultLabel ?? (o.default === undefined ? 'none' : JSON.stringify(o.default));
    const env = o.env ? `, env ${o.env}` : '';
    return { left, right: `${o.description} (default: ${def}${env})` };
  });
  rows.push({ left: '  --help', right: 'show this help' });
  const width = Math.max(...rows.map((r) => r.left.length)) + 2;
  const lines = rows.map((r) => r.left.padEnd(width) + r.right);
  const footer = program.helpFooter ? [program.helpFooter, ''] : [];
  return [`Usage: ${program.usage}`, '', program.summary, '', 'Options:', ...lines, '', 'Config file: VERITY_CONFIG=path.(yaml|json), keys mirror the flags. Precedence: flag > env > file > default.', '', ...footer].join('\n');
}
