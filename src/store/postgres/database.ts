import pg from "pg";
import { StoreUnavailableError } from "../store.js";

/**
 * One PostgreSQL connection pool and what this process knows of the database's health. Every query
 * of the PostgreSQL engines goes through here, so that:
 * - a lost connection (the server restarted, the network dropped) turns into StoreUnavailableError,
 *   which the API answers 503 store_unavailable with Retry-After, instead of a 500 or a crash;
 * - while the database is down, calls fail at once (no request waits on a dead server, and the
 *   process does not hammer it), and one probe reconnects with exponential backoff;
 * - an idle client's 'error' event (the server closed its connection) is handled: pg emits it on
 *   the pool, and an unhandled 'error' event would kill the process.
 */

export interface DatabaseOptions {
  url: string;
  /** Connections at most in the pool. */
  poolMax: number;
  /** Called with the reason when the database becomes unreachable, and with null when it is back. */
  onStateChange?: (reason: string | null) => void;
}

const sharedByUrl = new Map<string, { db: Database; users: number }>();

/**
 * The process's one Database for a URL: the submission store and the key store of a node share its
 * pool and, above all, its view of the database's health (one probe, one "down since", one answer
 * to /health). Each opener closes its handle; the pool ends with the last one.
 */
export function sharedDatabase(options: DatabaseOptions): Database {
  let entry = sharedByUrl.get(options.url);
  if (entry === undefined) {
    const db: Database = new Database(options, () => {
      const current = sharedByUrl.get(options.url);
      if (current === undefined || current.db !== db) return true;
      current.users--;
      if (current.users > 0) return false;
      sharedByUrl.delete(options.url);
      return true;
    });
    entry = { db, users: 0 };
    sharedByUrl.set(options.url, entry);
  } else if (options.onStateChange !== undefined) {
    entry.db.onStateChange(options.onStateChange);
  }
  entry.users++;
  return entry.db;
}

/** First pause before probing a lost database again, and the longest pause between probes. */
export const BACKOFF_FIRST_MS = 100;
export const BACKOFF_MAX_MS = 5_000;
/** How long a new connection may take before the attempt counts as failed (a host that drops packets). */
export const CONNECT_TIMEOUT_MS = 5_000;

const INT8_OID = 20;
// Timestamps are ms since the epoch in BIGINT columns, and COUNT(*) is a BIGINT: both are far below
// 2^53, so numbers, not the strings pg returns by default. Set per pool, not globally, so another
// user of pg in the process is not surprised.
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID && format !== "binary") return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as "text");
  },
} as pg.CustomTypesConfig;

/**
 * Whether an error means "the database cannot be reached now", as opposed to a bad statement:
 * node's socket errors, pg's own "Connection terminated", and SQLSTATE classes 08 (connection
 * exception) and 57P (the server is shutting down or starting up, as `pg_ctl restart` does).
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOENT"].includes(code)) return true;
    if (code.startsWith("08") || code.startsWith("57P") || code === "53300") return true;
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(error.message);
}

/** What a statement runs on: the pool (any connection) or one transaction's connection. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(query: pg.QueryConfig): Promise<pg.QueryResult<R>>;
}

export class Database {
  readonly pool: pg.Pool;
  private down: { reason: string; since: number; delayMs: number; nextProbeAt: number } | null = null;
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private readonly stateListeners: Array<(reason: string | null) => void> = [];

  /**
   * A pool of its own (tests that play several nodes in one process want one each); a node uses
   * sharedDatabase(). `release` says whether close() may end the pool (the last user of a shared one).
   */
  constructor(options: DatabaseOptions, private readonly release: () => boolean = () => true) {
    if (options.onStateChange !== undefined) this.stateListeners.push(options.onStateChange);
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      types,
      // A pooled connection that sat idle is closed after a while (the server may have a lower limit).
      idleTimeoutMillis: 30_000,
    });
    // An idle client lost its connection (server restart, network): the pool already dropped it; say so.
    this.pool.on("error", (error) => this.lost(error));
  }

  /** Also tell `listener` when the database goes away and comes back. */
  onStateChange(listener: (reason: string | null) => void): void {
    this.stateListeners.push(listener);
  }

  /** Why the database is unreachable, or null while it answers. */
  unavailable(): string | null {
    return this.down?.reason ?? null;
  }

  /** Seconds a client should wait before trying again while the database is down. */
  retryAfterS(): number {
    if (this.down === null) return 1;
    return Math.max(1, Math.ceil((this.down.nextProbeAt - Date.now()) / 1000));
  }

  /** One statement on any pooled connection. */
  async query<R extends pg.QueryResultRow>(query: pg.QueryConfig): Promise<pg.QueryResult<R>> {
    this.failFast();
    try {
      return await this.pool.query<R>(query);
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** Runs `work` in one transaction on one connection: committed if it returns, rolled back if it throws. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.failFast();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.translate(error);
    }
    let broken: Error | undefined;
    // pg-pool takes its own 'error' listener off a client it hands out, and a client whose connection
    // dies between two statements (no query active to reject) emits 'error': unheard, that would end
    // the process. Heard here, the next statement fails and the connection is destroyed.
    const onError = (error: Error) => {
      broken = error;
      this.lost(error);
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      if (isConnectionError(error)) {
        broken = error as Error;
      } else {
        await client.query("ROLLBACK").catch((rollbackError: unknown) => {
          broken = rollbackError as Error;
        });
      }
      throw this.translate(error);
    } finally {
      client.off("error", onError);
      // A connection that failed is destroyed, not put back for the next caller.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed || !this.release()) return;
    this.closed = true;
    clearTimeout(this.probeTimer);
    await this.pool.end().catch(() => undefined);
  }

  private failFast(): void {
    if (this.closed) throw new StoreUnavailableError("the store is closed", 1);
    if (this.down !== null) throw new StoreUnavailableError(this.down.reason, this.retryAfterS());
  }

  private translate(error: unknown): unknown {
    if (!isConnectionError(error)) return error;
    this.lost(error as Error);
    return new StoreUnavailableError(this.down?.reason ?? (error as Error).message, this.retryAfterS());
  }

  /** The database went away: remember why, and start probing it with backoff (once). */
  private lost(error: Error): void {
    if (this.closed || this.down !== null) return;
    const reason = `the database is unreachable: ${error.message}`;
    this.down = { reason, since: Date.now(), delayMs: BACKOFF_FIRST_MS, nextProbeAt: Date.now() + BACKOFF_FIRST_MS };
    this.changed(reason);
    this.scheduleProbe();
  }

  private changed(reason: string | null): void {
    for (const listener of this.stateListeners) listener(reason);
  }

  private scheduleProbe(): void {
    if (this.down === null || this.closed) return;
    // Full jitter keeps many nodes from probing a restarting server in step.
    const delay = this.down.delayMs * (0.5 + Math.random() / 2);
    this.down.nextProbeAt = Date.now() + delay;
    this.probeTimer = setTimeout(() => void this.probe(), delay);
    // The probe alone must not keep a process alive that is otherwise done.
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    if (this.down === null || this.closed) return;
    try {
      await this.pool.query("SELECT 1");
      this.down = null;
      this.changed(null);
    } catch (error) {
      if (this.down === null) return;
      if (!isConnectionError(error)) this.down.reason = `the database is unreachable: ${(error as Error).message}`;
      this.down.delayMs = Math.min(BACKOFF_MAX_MS, this.down.delayMs * 2);
      this.scheduleProbe();
    }
  }
}
