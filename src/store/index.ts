import type { Config } from "../config.js";
import { openSqliteStore } from "./sqlite/index.js";
import type { SubmissionStore } from "./store.js";

export type { SubmissionStore } from "./store.js";

/** The store the configuration asks for: SQLite in DATA_DIR, or (STORE=memory) SQLite in memory. */
export function openStore(config: Pick<Config, "store" | "dataDir">): SubmissionStore {
  return openSqliteStore({ dataDir: config.store === "memory" ? ":memory:" : config.dataDir });
}
