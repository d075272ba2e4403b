import winston from 'winston';

/** Adds `time` (ISO-8601 UTC, ms) to every line. */
const stampTime = winston.format((info) => {
  info.time = new Date().toISOString();
  return info;
});

/** Logger options. `level` is a winston npm level; `format` json (default, for machines) or pretty. */
export interface LoggerOptions {
  level?: 'error' | 'warn' | 'info' | 'debug';
  format?: 'json' | 'pretty';
  /** where lines go; default process.stderr (stdout is kept for command output such as `jaga parse`) */
  stream?: NodeJS.WritableStream;
}

/** A winston logger. Log lines never carry customer data: callers pass ids, counts and names only. */
export type Logger = winston.Logger;

/**
 * Creates the process logger: one JSON object per line with `level`, `message`, `time` (ISO-8601 UTC)
 * and the structured fields given by the caller.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const format =
    options.format === 'pretty'
      ? winston.format.combine(winston.format.timestamp(), winston.format.simple())
      : winston.format.combine(stampTime(), winston.format.json());
  return winston.createLogger({
    level: options.level ?? 'info',
    format,
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stderr })],
  });
}

/** A logger that drops everything (for tests and library use without output). */
export function createSilentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
