import type { Config } from "../config.js";
import type { KeyStore } from "./keys.js";
import { openPostgresKeyStore } from "./postgres-keys.js";
import { SqliteKeyStore } from "./sqlite-keys.js";

/** The key store the configuration asks for: PostgreSQL (shared by every node) with DATABASE_URL, else SQLite in DATA_DIR. */
export async function openKeyStore(config: Pick<Config, "dataDir" | "databaseUrl" | "databasePoolMax">): Promise<KeyStore> {
  if (config.databaseUrl !== "") return openPostgresKeyStore(config.databaseUrl, config.databasePoolMax);
  return new SqliteKeyStore(config.dataDir);
}
