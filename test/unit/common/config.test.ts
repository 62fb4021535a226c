import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { defineProgram, loadConfig, option, renderHelp } from '../../../common/config/options.js';
import { durationMs, formatDuration, listenAddress, parseDurationMs, routeGlobs } from '../../../common/config/shared.js';
import { isVerityError } from '../../../common/errors.js';

const program = defineProgram({
  usage: 'verity thing',
  summary: 'a test program',
  options: {
    listen: option({ flag: 'listen', env: 'T_LISTEN', valueName: 'ADDR', description: 'where', default: '127.0.0.1:1', schema: listenAddress }),
    count: option({ flag: 'count', env: 'T_COUNT', valueName: 'N', description: 'how many', default: 3, schema: z.coerce.number().int().positive() }),
    ttl: option({ flag: 'ttl', description: 'how long', default: '1h', schema: durationMs }),
    verbose: option({ flag: 'verbose', env: 'T_VERBOSE', description: 'talk', boolean: true, default: false, schema: z.boolean() }),
  },
});

const configDirs: string[] = [];
afterAll(() => {
  for (const dir of configDirs) rmSync(dir, { recursive: true, force: true });
});

function configFile(content: string, ext = 'yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'verity-cfg-'));
  configDirs.push(dir);
  const file = join(dir, `c.${ext}`);
  writeFileSync(file, content);
  return file;
}

describe('loadConfig', () => {
  it('applies defaults and freezes the result', () => {
    const { config } = loadConfig(program, { argv: [], env: {} });
    expect(config).toEqual({ listen: { host: '127.0.0.1', port: 1 }, count: 3, ttl: 3_600_000, verbose: false });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes flag over env over file over default', () => {
    const file = configFile('count: 7\nlisten: "0.0.0.0:70"\nttl: 2m\n');
    const env = { VERITY_CONFIG: file, T_COUNT: '8' };
    expect(loadConfig(program, { argv: [], env }).config).toMatchObject({ count: 8, listen: { port: 70 }, ttl: 120_000 });
    expect(loadConfig(program, { argv: ['--count', '9'], env }).config.count).toBe(9);
    expect(loadConfig(program, { argv: ['--count=10'], env }).config.count).toBe(10);
  });

  it('reads JSON config files too', () => {
    const file = configFile('{"count": 11}', 'json');
    expect(loadConfig(program, { argv: [], env: { VERITY_CONFIG: file } }).config.count).toBe(11);
  });

  it('reports every problem at once in one error', () => {
    let message = '';
    try {
      loadConfig(program, { argv: ['--count', '-1', '--listen', 'nowhere', '--bogus', '--ttl', 'soon'], env: {} });
    } catch (err) {
      expect(isVerityError(err, 'CFG_ERR_INVALID')).toBe(true);
      message = (err as Error).message;
    }
    expect(message).toContain('unknown option --bogus');
    expect(message).toContain('--count');
    expect(message).toContain('"nowhere" is not HOST:PORT');
    expect(message).toContain('"soon" is not a duration');
    expect(message).toMatch(/^verity thing: .* \(see verity thing --help\)$/);
  });

  it('says a required flag is missing in plain words', () => {
    const required = defineProgram({ usage: 'verity need --site HOST', summary: 's', options: {
      site: option({ flag: 'site', valueName: 'HOST', description: 'd', schema: z.string().min(1) }),
    } });
    expect(() => loadConfig(required, { argv: [], env: {} })).toThrow('verity need: --site HOST is missing (see verity need --help)');
  });

  it('names the source of a bad value and reports unreadable files', () => {
    expect(() => loadConfig(program, { argv: [], env: { T_COUNT: 'zero' } })).toThrow(/env T_COUNT/);
    expect(() => loadConfig(program, { argv: [], env: { VERITY_CONFIG: '/nonexistent.yaml' } })).toThrow(/cannot be read/);
    expect(() => loadConfig(program, { argv: [], env: { VERITY_CONFIG: configFile('- a\n- b\n') } })).toThrow(/mapping/);
  });

  it('parses booleans from flags, --no- flags and env', () => {
    expect(loadConfig(program, { argv: ['--verbose'], env: {} }).config.verbose).toBe(true);
    expect(loadConfig(program, { argv: ['--no-verbose'], env: { T_VERBOSE: '1' } }).config.verbose).toBe(false);
    expect(loadConfig(program, { argv: [], env: { T_VERBOSE: 'yes' } }).config.verbose).toBe(true);
  });

  it('renders help with every flag, its default and its env name', () => {
    const help = renderHelp(program);
    for (const needle of ['--listen ADDR', '"127.0.0.1:1"', 'env T_LISTEN', '--count N', 'env T_COUNT', '--verbose', '--help']) expect(help).toContain(needle);
  });
});

describe('parsers', () => {
  it('parses durations', () => {
    expect(parseDurationMs('90s')).toBe(90_000);
    expect(parseDurationMs('7d')).toBe(604_800_000);
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('1.5h')).toBe(5_400_000);
    expect(parseDurationMs('soon')).toBeNull();
    expect(formatDuration(86_400_000)).toBe('1d');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(1500)).toBe('1500ms');
  });

  it('refuses a bare number as a duration, from any source, and says how to write it', () => {
    // `--ttl 7` once made a token that lived 7 ms.
    expect(parseDurationMs('7')).toBeNull();
    expect(durationMs.safeParse(7).success).toBe(false);
    const fromFlag = () => loadConfig(program, { argv: ['--ttl', '7'], env: {} });
    expect(fromFlag).toThrow(/--ttl: "7" has no unit: write 7s, 7m, 7h or 7d/);
    expect(() => loadConfig(program, { argv: [], env: { VERITY_CONFIG: configFile('ttl: 300\n') } })).toThrow(/--ttl \(from config file .*\): "300" has no unit/);
  });

  it('refuses private routes that are not URL paths', () => {
    expect(routeGlobs('private').parse('/login, /account/**')).toEqual(['/login', '/account/**']);
    expect(routeGlobs('public').safeParse('blog/**').error?.issues[0]?.message).toBe('"blog/**" does not start with "/": public routes are URL paths, write "/blog/**"');
    const r = routeGlobs('private').safeParse('/ok,login');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe('"login" does not start with "/": private routes are URL paths, write "/login"');
  });
  it('parses listen addresses', () => {
    expect(listenAddress.parse('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(listenAddress.parse(':9')).toEqual({ host: '0.0.0.0', port: 9 });
    expect(listenAddress.safeParse('1.2.3.4:70000').success).toBe(false);
  });
});
