import t from "tap";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { SqliteKeyStore } from "../../src/auth/sqlite-keys.js";
import { root, tempDataDir } from "../helpers/app.js";

// Issue 14: gradebox-keys create / list / revoke, run as an operator runs it.

function keys(dataDir: string, ...args: string[]) {
  const run = spawnSync(process.execPath, [path.join(root, "dist", "src", "cli", "keys.js"), ...args], {
    env: { PATH: process.env.PATH ?? "", DATA_DIR: dataDir },
    encoding: "utf8",
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

t.test("create prints the secret once; list shows the key without it; revoke ends it", async (t) => {
  const dir = tempDataDir();
  const created = keys(dir, "create", "--name", "coursera", "--scopes", "submit,read", "--rate-limit", "120");
  t.equal(created.code, 0, created.stderr);
  const secret = /^secret: (gbx_\S+)$/m.exec(created.stdout)?.[1] ?? "";
  t.match(secret, /^gbx_[0-9a-f]{16}\./, "the secret is printed");
  const id = created.stdout.split("\t")[0] ?? "";
  t.match(created.stdout, /\tcoursera\tsubmit,read\t120\/min\t/);

  const store = new SqliteKeyStore(dir);
  t.teardown(() => store.close());
  t.equal(store.verify(secret)?.id, id, "the printed secret is the key's");

  const listed = keys(dir, "list");
  t.equal(listed.code, 0);
  t.match(listed.stdout, new RegExp(`^${id}\\tcoursera\\tsubmit,read\\t120/min\\t\\S+\\tactive$`, "m"));
  t.notOk(listed.stdout.includes(secret.split(".")[1] as string), "list never shows a secret");
  const json = JSON.parse(keys(dir, "list", "--json").stdout) as Array<{ id: string; scopes: string[] }>;
  t.same(json.map((k) => [k.id, k.scopes]), [[id, ["submit", "read"]]]);

  t.equal(keys(dir, "revoke", id).code, 0);
  t.equal(store.verify(secret), undefined, "the secret no longer verifies");
  t.match(keys(dir, "list").stdout, /\trevoked \S+$/m);
  const again = keys(dir, "revoke", id);
  t.equal(again.code, 1, "revoking twice is an error");
  t.match(again.stderr, /no active key/);
});

t.test("wrong usage exits 2 and says why", async (t) => {
  const dir = tempDataDir();
  const badScope = keys(dir, "create", "--name", "x", "--scopes", "submit,write");
  t.equal(badScope.code, 2);
  t.match(badScope.stderr, /unknown scope\(s\) write: the scopes are submit, read, admin/);
  t.equal(keys(dir, "create", "--scopes", "read").code, 2, "a name is required");
  t.equal(keys(dir, "create", "--name", "x", "--scopes", "read", "--rate-limit", "0").code, 2);
  t.equal(keys(dir, "revoke").code, 2);
  t.equal(keys(dir, "rotate").code, 2);
  t.equal(keys(dir).code, 2);
});
