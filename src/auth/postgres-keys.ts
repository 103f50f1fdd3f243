import type pg from "pg";
import { sharedDatabase, type Database } from "../store/postgres/database.js";
import { hashSecret, keyIdOf, newKeyId, newSecret, secretMatches, toKey, type ApiKey, type KeyRow, type KeyStore, type NewKey } from "./keys.js";

/**
 * API keys in PostgreSQL, so that every node sharing DATABASE_URL knows every key (and every
 * revocation) at once. The schema is SQLite's (src/auth/migrations.ts) in PostgreSQL's types, with
 * its own `auth_migrations` record, as on SQLite.
 */
export const postgresAuthMigrations: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: "api-keys",
    sql: `
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        scopes TEXT NOT NULL,             -- comma-separated: submit,read,admin
        secret_sha256 BYTEA NOT NULL,     -- never the secret itself
        rate_limit_per_min INTEGER,       -- NULL: RATE_LIMIT_PER_MIN
        created_at TEXT NOT NULL,
        revoked_at TEXT
      );
    `,
  },
];

type Row = KeyRow;

const q = {
  insert: { name: "gradebox_key_insert", text: "INSERT INTO api_keys (id, name, scopes, secret_sha256, rate_limit_per_min, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *" },
  list: { name: "gradebox_key_list", text: "SELECT * FROM api_keys ORDER BY created_at, id" },
  byId: { name: "gradebox_key_by_id", text: "SELECT * FROM api_keys WHERE id = $1" },
  revoke: { name: "gradebox_key_revoke", text: "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL" },
  any: { name: "gradebox_key_any", text: "SELECT EXISTS (SELECT 1 FROM api_keys) AS any" },
  ping: { name: "gradebox_key_ping", text: "SELECT 1" },
} satisfies Record<string, pg.QueryConfig>;

export class PostgresKeyStore implements KeyStore {
  /**
   * Keys are never deleted (revoked ones count), so once any key exists it always will: remembering
   * it saves a round trip on every request. "No key yet" is asked every time, so that a key created
   * on another node closes this one at once.
   */
  private keysExist = false;

  constructor(private readonly db: Database) {}

  async create({ name, scopes, rateLimitPerMin = null }: NewKey): Promise<{ key: ApiKey; secret: string }> {
    const id = newKeyId();
    const secret = newSecret(id);
    const rows = (await this.db.query<Row>({ ...q.insert, values: [id, name, [...new Set(scopes)].join(","), hashSecret(secret), rateLimitPerMin, new Date().toISOString()] })).rows;
    this.keysExist = true;
    return { key: toKey(rows[0] as Row), secret };
  }

  async list(): Promise<ApiKey[]> {
    return (await this.db.query<Row>(q.list)).rows.map(toKey);
  }

  async revoke(id: string): Promise<boolean> {
    return (await this.db.query({ ...q.revoke, values: [new Date().toISOString(), id] })).rowCount === 1;
  }

  async verify(secret: string): Promise<ApiKey | undefined> {
    const id = keyIdOf(secret);
    if (id === undefined) return undefined;
    const row = (await this.db.query<Row>({ ...q.byId, values: [id] })).rows[0];
    // The id is not secret; the comparison of the secret proper is constant-time.
    if (row === undefined || !secretMatches(secret, row.secret_sha256) || row.revoked_at !== null) return undefined;
    return toKey(row);
  }

  async anyKeys(): Promise<boolean> {
    if (this.keysExist) return true;
    this.keysExist = (await this.db.query<{ any: boolean }>(q.any)).rows[0]?.any === true;
    return this.keysExist;
  }

  async ping(): Promise<void> {
    await this.db.query(q.ping);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/**
 * Opens the key store on DATABASE_URL, applying its migrations (one node at a time). It shares the
 * process's pool with the submission store (sharedDatabase), so both see the database's health alike.
 */
export async function openPostgresKeyStore(url: string, poolMax: number): Promise<PostgresKeyStore> {
  const db = sharedDatabase({ url, poolMax });
  try {
    await db.transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('gradebox.migrations'))");
      await client.query("CREATE TABLE IF NOT EXISTS auth_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
      const applied = new Set((await client.query<{ version: number }>("SELECT version FROM auth_migrations")).rows.map((r) => r.version));
      for (const migration of postgresAuthMigrations) {
        if (applied.has(migration.version)) continue;
        await client.query(migration.sql);
        await client.query("INSERT INTO auth_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [migration.version, migration.name, new Date().toISOString()]);
      }
    });
  } catch (error) {
    await db.close();
    throw error;
  }
  return new PostgresKeyStore(db);
}
