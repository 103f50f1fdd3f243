import type { LoggerOptions } from "pino";

/**
 * pino options for the service. Students' source and pack files must never reach the log, and
 * redact enforces it even if a future log call passes a request body by mistake.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: ["req.headers.authorization", "req.headers.cookie", "source", "*.source", "body", "*.body", "files", "*.files", "args", "*.args"],
      censor: "[redacted]",
    },
  };
}

/** The logging the service's own modules need; pino and Fastify's logger both provide it. */
export interface Log {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
