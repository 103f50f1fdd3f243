import type { Config } from "../config.js";
import { openPostgresStore } from "./postgres/index.js";
import { openSqliteStore } from "./sqlite/index.js";
import type { SubmissionStore } from "./store.js";

export type { SubmissionStore } from "./store.js";

export interface OpenStoreOptions {
  /** PostgreSQL only: told when the database becomes unreachable (with why) and when it is back (null). */
  onStateChange?: (reason: string | null) => void;
}

/**
 * The store the configuration asks for: PostgreSQL when DATABASE_URL is set (its migrations applied
 * before this resolves), else SQLite in DATA_DIR, or (STORE=memory) SQLite in memory.
 */
export async function openStore(config: Pick<Config, "store" | "dataDir" | "databaseUrl" | "databasePoolMax">, options: OpenStoreOptions = {}): Promise<SubmissionStore & { unavailable?: () => string | null }> {
  if (config.databaseUrl !== "") {
    return openPostgresStore({ url: config.databaseUrl, poolMax: config.databasePoolMax, ...options });
  }
  return openSqliteStore({ dataDir: config.store === "memory" ? ":memory:" : config.dataDir });
}
