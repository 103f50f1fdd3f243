import t from "tap";
import request from "supertest";
import Fastify from "fastify";
import authPlugin from "../../src/plugins/auth.js";
import { SqliteKeyStore } from "../../src/auth/sqlite-keys.js";
import { buildApp, tempDataDir, testConfig } from "../helpers/app.js";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { root } from "../helpers/app.js";

// Issue 14: API keys and scopes over HTTP, on the real app with its SQLite key store.

const ADMIN_TOKEN = "bootstrap admin token";
const DATA_DIR = tempDataDir();
const app = await buildApp({ WORKERS: "1", ADMIN_TOKEN, DATA_DIR });
t.teardown(() => app.close());
// Keys are made as the CLI makes them: another connection to the same database.
const keys = new SqliteKeyStore(DATA_DIR);
t.teardown(() => keys.close());
const source = await readFile(path.join(root, "graders", "gradient-checking", "reference", "solution.mjs"), "utf8").catch(() => "export const x = 1;");
const submission = { assignment: "gradient-checking", source };

t.test("while no key exists the service is open, as before keys", async (t) => {
  t.equal((await request(app.server).get("/v1/assignments")).status, 200);
  const graded = await request(app.server).post("/v1/submissions").send(submission);
  t.equal(graded.status, 200);
  t.equal((await request(app.server).get("/v1/assignments").set("authorization", "Bearer made-up")).status, 401, "but an unknown token is refused");
});

t.test("once a key exists, every /v1 route needs one: 401 without or with an unknown key, 403 without the scope", async (t) => {
  const submitter = keys.create({ name: "platform", scopes: ["submit"] });
  const reader = keys.create({ name: "dashboard", scopes: ["read"] });
  const admin = keys.create({ name: "ops", scopes: ["admin"] });

  const none = await request(app.server).get("/v1/assignments");
  t.equal(none.status, 401);
  t.equal(none.body.error.code, "unauthorized");
  const unknown = await request(app.server).post("/v1/submissions").set("authorization", `Bearer ${submitter.secret}x`).send(submission);
  t.equal(unknown.status, 401);
  t.equal(unknown.body.error.code, "unauthorized");

  const wrongScope = await request(app.server).post("/v1/submissions").set("authorization", `Bearer ${reader.secret}`).send(submission);
  t.equal(wrongScope.status, 403);
  t.match(wrongScope.body, { error: { code: "forbidden", message: /'submit' scope/ } });

  const submitted = await request(app.server).post("/v1/submissions").set("authorization", `Bearer ${submitter.secret}`).send(submission);
  t.equal(submitted.status, 200, "submit scope grades");
  t.equal((await request(app.server).get("/v1/assignments").set("authorization", `Bearer ${reader.secret}`)).status, 200, "any key reads what students may see");
  t.equal((await request(app.server).post("/v1/submissions").set("authorization", `Bearer ${admin.secret}`).send(submission)).status, 200, "admin holds every scope");
  t.equal((await request(app.server).post("/v1/submissions").set("authorization", `Bearer ${ADMIN_TOKEN}`).send(submission)).status, 200, "ADMIN_TOKEN is an admin key");

  const install = await request(app.server).put("/v1/assignments/gradient-checking").set("authorization", `Bearer ${submitter.secret}`).send({ files: {} });
  t.equal(install.status, 403, "installing a pack needs admin");
  t.match(install.body, { error: { code: "forbidden", message: /'admin' scope/ } });

  t.equal((await request(app.server).get("/health").set("authorization", "Bearer nonsense")).status, 200, "health stays open");

  keys.revoke(submitter.key.id);
  const revoked = await request(app.server).post("/v1/submissions").set("authorization", `Bearer ${submitter.secret}`).send(submission);
  t.equal(revoked.status, 401, "a revoked key is refused at once");
});

t.test("the authenticated client is on the request, for routes that record who submitted", async (t) => {
  // The auth plugin alone, with a route that shows what a route sees.
  const bare = Fastify();
  t.teardown(() => bare.close());
  await bare.register(authPlugin, { config: testConfig() });
  bare.get("/v1/whoami", async (request) => ({ client: request.client }));
  await bare.ready();
  const anonymous = await bare.inject({ url: "/v1/whoami" });
  t.same(anonymous.json(), { client: null }, "no client while the service is open");
  const platform = await bare.keys.create({ name: "platform-b", scopes: ["submit", "read"] });
  const seen = await bare.inject({ url: "/v1/whoami", headers: { authorization: `Bearer ${platform.secret}` } });
  t.same(seen.json(), { client: { id: platform.key.id, name: "platform-b", scopes: ["submit", "read"], rateLimitPerMin: null } });
});

t.test("an open service bound to a non-loopback address logs a warning at start; on loopback it does not", async (t) => {
  const warnings = async (host: string, withKey: boolean) => {
    const lines: string[] = [];
    const stream = { write: (line: string) => { lines.push(line); } };
    const config = testConfig({ HOST: host });
    if (withKey) {
      const store = new SqliteKeyStore(config.dataDir);
      store.create({ name: "k", scopes: ["read"] });
      store.close();
    }
    const bare = Fastify({ logger: { level: "warn", stream } });
    await bare.register(authPlugin, { config });
    await bare.ready();
    await bare.close();
    return lines.filter((l) => l.includes("no API key exists")).length;
  };
  t.equal(await warnings("0.0.0.0", false), 1, "open on 0.0.0.0: warned");
  t.equal(await warnings("127.0.0.1", false), 0, "open on loopback: quiet");
  t.equal(await warnings("0.0.0.0", true), 0, "with a key: quiet");
});
