import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

// Anything that can carry a credential never reaches a log line.
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-verity-audit-pin"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'cookie',
  'token',
  '*.token',
  'adminToken',
  'password',
  '*.password',
  'databaseUrl',
];

export interface LogSettings {
  level: string;
  name: string;
  /** Pretty output is for people at a terminal; pipes and files get JSON. */
  pretty?: boolean;
}

export function loggerOptions(settings: LogSettings): LoggerOptions {
  const pretty = settings.pretty ?? process.stdout.isTTY === true;
  return {
    name: settings.name,
    level: settings.level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, destination: 2 } } } : {}),
  };
}

export function createLogger(settings: LogSettings): Logger {
  const pretty = settings.pretty ?? process.stdout.isTTY === true;
  // JSON logs go to stderr so that a command's own output on stdout stays clean for scripts.
  return pretty ? pino(loggerOptions(settings)) : pino(loggerOptions({ ...settings, pretty: false }), pino.destination(2));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
