import t from "tap";
import Database from "better-sqlite3";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { canReadSubmission, hashSecret, keyIdOf, type Client } from "../../src/auth/keys.js";
import { DATABASE_FILE, SqliteKeyStore } from "../../src/auth/sqlite-keys.js";

const dataDir = () => mkdtempSync(path.join(tmpdir(), "gradebox-keys-"));

t.test("a created key's secret verifies, and only its SHA-256 is stored", async (t) => {
  const dir = dataDir();
  const store = new SqliteKeyStore(dir);
  t.teardown(() => store.close());
  t.equal(store.anyKeys(), false, "a new store has no key");
  const { key, secret } = store.create({ name: "coursera", scopes: ["submit", "read"] });
  t.match(secret, /^gbx_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
  t.equal(keyIdOf(secret), key.id);
  t.same(store.verify(secret), key);
  t.same(key.scopes, ["submit", "read"]);
  t.equal(store.anyKeys(), true);
  const raw = new Database(path.join(dir, DATABASE_FILE), { readonly: true });
  t.teardown(() => raw.close());
  const rows = raw.prepare("SELECT * FROM api_keys").all() as Array<Record<string, unknown>>;
  t.equal(rows.length, 1);
  t.notOk(JSON.stringify(rows).includes(secret.split(".")[1] as string), "the secret is not in the database");
  t.same(rows[0]?.secret_sha256, hashSecret(secret), "its SHA-256 is");
  t.equal((raw.pragma("journal_mode", { simple: true }) as string).toLowerCase(), "wal");
});

t.test("a wrong, malformed or revoked secret does not verify, and revoking the last key does not reopen the service", async (t) => {
  const store = new SqliteKeyStore(dataDir());
  t.teardown(() => store.close());
  const { key, secret } = store.create({ name: "ci", scopes: ["submit"], rateLimitPerMin: 5 });
  t.equal(key.rateLimitPerMin, 5);
  const forged = `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
  t.equal(store.verify(forged), undefined, "same id, another secret");
  t.equal(store.verify("not a key"), undefined);
  t.equal(store.verify(""), undefined);
  t.equal(store.revoke(key.id), true);
  t.equal(store.revoke(key.id), false, "revoking twice says so");
  t.equal(store.revoke("0000000000000000"), false);
  t.equal(store.verify(secret), undefined, "a revoked key no longer verifies");
  t.equal(store.anyKeys(), true, "the service stays closed");
  t.not(store.list()[0]?.revokedAt, null);
});

t.test("the store's migration runs once: reopening the database keeps the keys", async (t) => {
  const dir = dataDir();
  const first = new SqliteKeyStore(dir);
  const { secret } = first.create({ name: "a", scopes: ["read"] });
  first.close();
  const second = new SqliteKeyStore(dir);
  t.teardown(() => second.close());
  t.equal(second.verify(secret)?.name, "a");
  t.equal(second.list().length, 1);
});

t.test("a key reads only the submissions it created; admin reads all; an open service reads all", async (t) => {
  const mine: Client = { id: "k1", name: "platform", scopes: ["submit", "read"], rateLimitPerMin: null };
  const submitOnly: Client = { id: "k3", name: "ci", scopes: ["submit"], rateLimitPerMin: null };
  const admin: Client = { id: "k2", name: "ops", scopes: ["admin"], rateLimitPerMin: null };
  t.equal(canReadSubmission(mine, { clientId: "k1" }), true);
  t.equal(canReadSubmission(mine, { clientId: "k2" }), false);
  t.equal(canReadSubmission(mine, { clientId: null }), false, "not one made while the service was open");
  t.equal(canReadSubmission(submitOnly, { clientId: "k3" }), false, "reading needs the read scope");
  t.equal(canReadSubmission(admin, { clientId: "k1" }), true);
  t.equal(canReadSubmission(admin, { clientId: null }), true);
  t.equal(canReadSubmission(null, { clientId: "k1" }), true);
});
