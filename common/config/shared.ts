import { z } from 'zod';
import { option } from './options.js';

// Parts every program's schema is built from, so a flag means the same thing everywhere.

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const logOptions = {
  logLevel: option({
    flag: 'log-level',
    env: 'VERITY_LOG_LEVEL',
    valueName: 'LEVEL',
    description: `log level (${logLevels.join(', ')})`,
    default: 'info',
    schema: z.enum(logLevels),
  }),
};

/** One-shot commands (site, token, node actions, migrate) print their answer; logs only when something is wrong. */
export const commandLogOptions = {
  logLevel: option({ ...logOptions.logLevel, default: 'warn' }),
};

export const databaseOptions = {
  databaseUrl: option({
    flag: 'database-url',
    env: 'DATABASE_URL',
    valueName: 'URL',
    description: 'PostgreSQL connection string; unset starts the embedded PostgreSQL',
    schema: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL').optional(),
  }),
  pgDir: option({
    flag: 'pg-dir',
    env: 'VERITY_PG_DIR',
    valueName: 'DIR',
    description: 'data directory of the embedded PostgreSQL (used when no database URL is set)',
    default: './.verity/pg',
    schema: z.string().min(1),
  }),
};

/**
 * A secret given by the operator (admin token, audit secret, a join token's value): long enough
 * to guess at no rate, and never one of the placeholders that example files used to ship with
 * ("change-me-…"), which anyone who read them would know.
 */
export const secretValue = z.string().min(16, 'must be at least 16 characters').refine(
  (v) => !/change[-_]?me/i.test(v),
  'is a placeholder from an example, known to anyone who read it: generate one (e.g. openssl rand -base64 32)',
);

/** host:port, [v6]:port or a bare port. */
export const listenAddress = z.string().transform((value, ctx) => {
  const parsed = parseListenAddress(value);
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not HOST:PORT` });
    return z.NEVER;
  }
  return parsed;
});

export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListenAddress(value: string): ListenAddress | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))?:?(\d{1,5})$/.exec(value.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: m[1] ?? m[2] ?? '0.0.0.0', port };
}

export function formatListenAddress(addr: ListenAddress): string {
  return addr.host.includes(':') ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}

export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

export const positiveInt = z.coerce.number().int().positive();
export const nonNegativeInt = z.coerce.number().int().nonnegative();

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * "500ms", "90s", "15m", "24h", "7d" → milliseconds; null for anything else. A bare number is
 * refused: `--ttl 7` once made a token that lived 7 ms, so the unit is always spelled out.
 */
export function parseDurationMs(value: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/.exec(value.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * (durationUnits[m[2] ?? ''] ?? Number.NaN));
}

/** Why `value` is not a duration, in words a person can act on. */
export function durationProblem(value: unknown): string {
  const text = String(value).trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return `"${text}" has no unit: write ${text}s, ${text}m, ${text}h or ${text}d`;
  return `"${text}" is not a duration like 30s, 15m, 24h or 7d`;
}

/** Milliseconds to the shortest exact spelling with a unit (86400000 → "1d", 90000 → "90s"). */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = durationUnits[unit] ?? 1;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export const durationMs = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? null : parseDurationMs(value);
  if (ms === null || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: durationProblem(value) });
    return z.NEVER;
  }
  return ms;
});

/** "a,b,c" (or a YAML list) → ["a","b","c"]. */
export const commaList = z.union([z.array(z.string()), z.string()]).transform((v) =>
  (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0),
);

/**
 * Route globs (--private, --public) are URL path globs and so start with "/": a glob like
 * "login" never matches the path "/login", and would quietly let a private page reach
 * volunteers (or keep a public one from them). Refused, with the fix.
 */
export function routeGlobProblem(glob: string, kind: 'private' | 'public'): string | null {
  if (glob.startsWith('/')) return null;
  return `"${glob}" does not start with "/": ${kind} routes are URL paths, write "/${glob.replace(/^\.?\/*/, '')}"`;
}

export function routeGlobs(kind: 'private' | 'public') {
  return commaList.superRefine((globs, ctx) => {
    for (const glob of globs) {
      const problem = routeGlobProblem(glob, kind);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }
  });
}

/** `LAT,LON` in degrees, e.g. 50.11,8.68. */
export const latLon = z.string().transform((value, ctx) => {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(value);
  const lat = Number(m?.[1]);
  const lon = Number(m?.[2]);
  if (!m || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not LAT,LON (e.g. 50.11,8.68)` });
    return z.NEVER;
  }
  return { lat, lon };
});
