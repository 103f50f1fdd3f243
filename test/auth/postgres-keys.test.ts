import t from "tap";
import { spawnSync } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { hashSecret } from "../../src/auth/keys.js";
import { openPostgresKeyStore } from "../../src/auth/postgres-keys.js";
import { root, tempDataDir } from "../helpers/app.js";
import { postgresForTests } from "../helpers/postgres.js";

const cluster = await postgresForTests(t);
if (cluster !== undefined) {
  t.test("a key created on one node verifies on another, a revocation is seen by both, and only the secret's SHA-256 is stored", async (t) => {
    const url = await cluster.createDatabase();
    // Two nodes: two processes in production; here two key stores on different connection strings
    // to the same database, so that they do not share a pool.
    const a = await openPostgresKeyStore(url, 2);
    const b = await openPostgresKeyStore(`${url}?application_name=node-b`, 2);
    t.teardown(async () => {
      await a.close();
      await b.close();
    });
    t.equal(await b.anyKeys(), false, "a new database has no key");
    const { key, secret } = await a.create({ name: "coursera", scopes: ["submit", "read"], rateLimitPerMin: 7 });
    t.equal(await b.anyKeys(), true, "the other node sees the first key at once: the service closes everywhere");
    t.same(await b.verify(secret), key, "the other node verifies it");
    t.equal(key.rateLimitPerMin, 7);
    const forged = `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
    t.equal(await b.verify(forged), undefined, "same id, another secret");
    t.equal(await b.verify("not a key"), undefined);
    t.same((await b.list()).map((k) => k.id), [key.id]);
    t.equal(await b.revoke(key.id), true);
    t.equal(await a.verify(secret), undefined, "revoked on one node, refused on the other");
    t.equal(await a.revoke(key.id), false, "once");
    t.equal(await a.anyKeys(), true, "a revoked key still counts: revoking the last key does not reopen the service");
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    t.teardown(() => raw.end());
    const rows = (await raw.query("SELECT * FROM api_keys")).rows as Array<{ secret_sha256: Buffer }>;
    t.notOk(JSON.stringify(rows).includes(secret.split(".")[1] as string), "the secret is not in the database");
    t.same(rows[0]?.secret_sha256, hashSecret(secret), "its SHA-256 is");
    await a.ping();
  });

  t.test("gradebox-keys with DATABASE_URL creates and revokes keys in PostgreSQL, where every node reads them", async (t) => {
    const url = await cluster.createDatabase();
    const cli = (...args: string[]) => {
      const run = spawnSync(process.execPath, [path.join(root, "dist", "src", "cli", "keys.js"), ...args], {
        env: { PATH: process.env.PATH ?? "", DATA_DIR: tempDataDir(), DATABASE_URL: url },
        encoding: "utf8",
      });
      return { code: run.status, stdout: run.stdout, stderr: run.stderr };
    };
    const created = cli("create", "--name", "moodle", "--scopes", "submit");
    t.equal(created.code, 0, created.stderr);
    const secret = /^secret: (gbx_\S+)$/m.exec(created.stdout)?.[1] ?? "";
    const node = await openPostgresKeyStore(url, 1);
    t.teardown(() => node.close());
    const key = await node.verify(secret);
    t.match(key, { name: "moodle", scopes: ["submit"] }, "a node reads the key the CLI made");
    t.equal(cli("revoke", key?.id ?? "").code, 0);
    t.equal(await node.verify(secret), undefined, "and its revocation");
    t.match(cli("list").stdout, /\tmoodle\tsubmit\tdefault\t.*\trevoked /);
  });
}
