import pg from "pg";
import { BACKOFF_FIRST_MS, BACKOFF_MAX_MS, CONNECT_TIMEOUT_MS, isConnectionError } from "./database.js";

/**
 * At start, waits for PostgreSQL to answer before the node opens its stores: in a deployment the service
 * often starts before its database does (docker compose, a cluster restart), and a node that exits at once
 * only adds a restart loop. Waiting is bounded (DATABASE_START_WAIT_S); past it, or on an error that waiting
 * cannot mend (a wrong password, a missing database), the start fails with the reason.
 */

export class DatabaseStartError extends Error {
  override name = "DatabaseStartError";
}

export interface WaitOptions {
  url: string;
  /** How long to keep trying; 0 tries once. */
  timeoutMs: number;
  /** Told of each failed attempt (the node logs it). */
  onRetry?: (attempt: number, reason: string, nextInMs: number) => void;
}

/** host:port/database of a URL, without its user or password, for messages and logs. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
  } catch {
    return "the database in DATABASE_URL";
  }
}

async function answers(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A connection that fails after connect() emits 'error' on the client: unhandled, it would end the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function waitForDatabase(options: WaitOptions): Promise<{ attempts: number }> {
  const deadline = Date.now() + options.timeoutMs;
  // The same backoff and connect timeout as the running pool's probe (database.ts).
  let pause = BACKOFF_FIRST_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await answers(options.url);
      return { attempts: attempt };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const where = describeDatabase(options.url);
      if (!isConnectionError(error)) throw new DatabaseStartError(`PostgreSQL at ${where} refused this node: ${reason}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new DatabaseStartError(`PostgreSQL at ${where} did not answer within DATABASE_START_WAIT_S (${Math.round(options.timeoutMs / 1000)} s, ${attempt} attempts): ${reason}`);
      }
      const next = Math.min(pause, left);
      options.onRetry?.(attempt, reason, next);
      await new Promise((resolve) => setTimeout(resolve, next));
      pause = Math.min(pause * 2, BACKOFF_MAX_MS);
    }
  }
}
