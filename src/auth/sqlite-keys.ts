import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { newKeyId, newSecret, hashSecret, keyIdOf, secretMatches, toKey, type ApiKey, type KeyRow, type KeyStore, type NewKey } from "./keys.js";
import { authMigrations } from "./migrations.js";

/** The database file in DATA_DIR; the submission store uses the same one. */
export const DATABASE_FILE = "gradebox.db";

// How long a statement waits for another process's write lock (the CLI creating a key while the service runs).
const BUSY_TIMEOUT_MS = 5000;

type Row = KeyRow;

/** Opens (and creates or migrates) the database in a folder. WAL lets the CLI write while the service reads. */
export function openDatabase(dataDir: string): Database.Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, DATABASE_FILE));
  db.pragma("journal_mode = WAL");
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.exec("CREATE TABLE IF NOT EXISTS auth_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT");
  const applied = new Set((db.prepare("SELECT version FROM auth_migrations").all() as Array<{ version: number }>).map((r) => r.version));
  for (const migration of authMigrations) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare("INSERT INTO auth_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(migration.version, migration.name, new Date().toISOString());
    }).immediate();
  }
  return db;
}

/** API keys in SQLite (better-sqlite3: synchronous, so a lookup costs microseconds and no event-loop turn). */
export class SqliteKeyStore implements KeyStore {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(dataDir: string) {
    this.db = openDatabase(dataDir);
    this.statements = {
      insert: this.db.prepare("INSERT INTO api_keys (id, name, scopes, secret_sha256, rate_limit_per_min, created_at) VALUES (?, ?, ?, ?, ?, ?)"),
      list: this.db.prepare("SELECT * FROM api_keys ORDER BY created_at, id"),
      byId: this.db.prepare("SELECT * FROM api_keys WHERE id = ?"),
      revoke: this.db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
      any: this.db.prepare("SELECT EXISTS (SELECT 1 FROM api_keys) AS any"),
      ping: this.db.prepare("SELECT 1"),
    };
  }

  create({ name, scopes, rateLimitPerMin = null }: NewKey): { key: ApiKey; secret: string } {
    const id = newKeyId();
    const secret = newSecret(id);
    const createdAt = new Date().toISOString();
    this.statements.insert.run(id, name, [...new Set(scopes)].join(","), hashSecret(secret), rateLimitPerMin, createdAt);
    return { key: toKey(this.statements.byId.get(id) as Row), secret };
  }

  list(): ApiKey[] {
    return (this.statements.list.all() as Row[]).map(toKey);
  }

  revoke(id: string): boolean {
    return this.statements.revoke.run(new Date().toISOString(), id).changes === 1;
  }

  verify(secret: string): ApiKey | undefined {
    const id = keyIdOf(secret);
    if (id === undefined) return undefined;
    const row = this.statements.byId.get(id) as Row | undefined;
    // The id is not secret; the comparison of the secret proper is constant-time.
    if (row === undefined || !secretMatches(secret, row.secret_sha256) || row.revoked_at !== null) return undefined;
    return toKey(row);
  }

  anyKeys(): boolean {
    return (this.statements.any.get() as { any: number }).any === 1;
  }

  ping(): void {
    this.statements.ping.get();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
