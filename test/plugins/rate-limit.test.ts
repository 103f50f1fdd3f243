import t from "tap";
import request from "supertest";
import { SqliteKeyStore } from "../../src/auth/sqlite-keys.js";
import { buildApp, tempDataDir } from "../helpers/app.js";

// Issue 14: per-key rate limits (@fastify/rate-limit): RATE_LIMIT_PER_MIN, or the key's own.

const DATA_DIR = tempDataDir();
const app = await buildApp({ WORKERS: "1", DATA_DIR, RATE_LIMIT_PER_MIN: "3" });
t.teardown(() => app.close());
const keys = new SqliteKeyStore(DATA_DIR);
t.teardown(() => keys.close());
const a = keys.create({ name: "a", scopes: ["read"] });
const b = keys.create({ name: "b", scopes: ["read"] });
const generous = keys.create({ name: "generous", scopes: ["read"], rateLimitPerMin: 6 });

const get = (secret: string) => request(app.server).get("/v1/assignments").set("authorization", `Bearer ${secret}`);

t.test("a key over RATE_LIMIT_PER_MIN gets 429 rate_limited with Retry-After and RateLimit-* headers; another key is not affected", async (t) => {
  for (let i = 0; i < 3; i++) {
    const ok = await get(a.secret);
    t.equal(ok.status, 200);
    t.equal(ok.headers["ratelimit-limit"], "3");
    t.equal(ok.headers["ratelimit-remaining"], String(2 - i));
  }
  const limited = await get(a.secret);
  t.equal(limited.status, 429);
  t.match(limited.body, { error: { code: "rate_limited", message: /3 per minute/ } });
  t.ok(Number(limited.headers["retry-after"]) >= 1 && Number(limited.headers["retry-after"]) <= 60, "Retry-After in seconds, within the minute");
  t.equal(limited.headers["ratelimit-limit"], "3");
  t.equal(limited.headers["ratelimit-remaining"], "0");
  t.ok(limited.headers["ratelimit-reset"] !== undefined);
  t.equal((await get(b.secret)).status, 200, "the limit is per key");
});

t.test("a key's own limit overrides RATE_LIMIT_PER_MIN", async (t) => {
  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) statuses.push((await get(generous.secret)).status);
  t.same(statuses, [200, 200, 200, 200, 200, 200, 429]);
});

t.test("health probes are never rate limited", async (t) => {
  for (let i = 0; i < 5; i++) t.equal((await request(app.server).get("/health/live")).status, 200);
});
