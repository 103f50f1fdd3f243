/**
 * The key store's schema, as numbered migrations applied in order, once each. They share the
 * database file with the submission store; until the two stores' migrations are one list, the key
 * store records its own in `auth_migrations` so neither mistakes the other's for its own.
 */
export const authMigrations: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: "api-keys",
    sql: `
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        scopes TEXT NOT NULL,             -- comma-separated: submit,read,admin
        secret_sha256 BLOB NOT NULL,      -- never the secret itself
        rate_limit_per_min INTEGER,       -- NULL: RATE_LIMIT_PER_MIN
        created_at TEXT NOT NULL,
        revoked_at TEXT
      ) STRICT;
    `,
  },
];
