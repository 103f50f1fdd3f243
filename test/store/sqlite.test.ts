import t from "tap";
import Database from "better-sqlite3";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DATABASE_FILE, migrate, openSqliteStore } from "../../src/store/sqlite/index.js";
import { migrations } from "../../src/store/sqlite/migrations/index.js";
import { storeSuite, submission } from "./suite.js";

const dir = await mkdtemp(path.join(tmpdir(), "gradebox-store-"));
t.teardown(() => rm(dir, { recursive: true, force: true }));
let n = 0;
const fileStore = () => Promise.resolve(openSqliteStore({ dataDir: path.join(dir, `db-${++n}`) }));

t.test("the shared store suite, on a SQLite file", async (t) => storeSuite(t, fileStore, {
  shared: false,
  // Two handles on one database file, as two processes would have.
  pair: async () => {
    const dataDir = path.join(dir, `db-${++n}`);
    return [openSqliteStore({ dataDir }), openSqliteStore({ dataDir })];
  },
}));
t.test("the shared store suite, on SQLite in memory", async (t) => storeSuite(t, () => Promise.resolve(openSqliteStore({ dataDir: ":memory:" }))));

t.test("migrations are numbered, applied once at open, and recorded", async (t) => {
  t.same(migrations.map((m) => m.version), migrations.map((_, i) => i + 1), "versions are 1, 2, 3… with no gap");
  const dataDir = path.join(dir, "migrations");
  const store = openSqliteStore({ dataDir });
  t.same(await store.migrations(), [1, 2, 3, 4]);
  await store.close();
  const db = new Database(path.join(dataDir, DATABASE_FILE));
  t.teardown(() => db.close());
  t.same(migrate(db), [1, 2, 3, 4], "opening again applies nothing new");
  t.same(db.prepare("SELECT version, name FROM schema_migrations").all(), [{ version: 1, name: "submissions" }, { version: 2, name: "regrades" }, { version: 3, name: "regrade-leases" }, { version: 4, name: "packs" }]);
  t.same(migrate(db, [...migrations, { version: 5, name: "test", sql: "CREATE TABLE later (x INTEGER)" }]), [1, 2, 3, 4, 5], "a new migration is applied on top");
  t.throws(() => migrate(db, [...migrations, { version: 5, name: "test", sql: "x" }, { version: 6, name: "broken", sql: "NOT SQL" }]));
  t.same(migrate(db), [1, 2, 3, 4, 5], "a failing migration leaves nothing behind");
});

t.test("the database is in WAL mode and a submission survives closing and reopening", async (t) => {
  const dataDir = path.join(dir, "reopen");
  const store = openSqliteStore({ dataDir });
  const input = submission();
  await store.create(input, 1000);
  await store.close();
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
  t.equal(db.pragma("journal_mode", { simple: true }), "wal");
  db.close();
  const again = openSqliteStore({ dataDir });
  t.teardown(() => again.close());
  t.match(await again.get(input.id), { id: input.id, source: input.source, status: "queued" });
});

t.test("migration 2 starts the history of the submissions graded before it", async (t) => {
  const dataDir = path.join(dir, "before-history");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, DATABASE_FILE));
  migrate(db, migrations.slice(0, 1));
  db.prepare(`INSERT INTO submissions (id, assignment, assignment_version, language, format, source, source_sha256, mode, background, status, received_at, finished_at, score, max_score, feedback)
    VALUES ('old', 'a', 'v1', 'javascript', 'native', '', '', 'sync', 0, 'graded', 1, 2, 3, 4, '{"score":3}')`).run();
  db.close();
  const store = openSqliteStore({ dataDir });
  t.teardown(() => store.close());
  t.match(await store.gradings("old"), [{ version: "v1", score: 3, maxScore: 4, gradedAt: 2, reason: "submitted", feedback: { score: 3 } }]);
});
