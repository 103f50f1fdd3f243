import t from "tap";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../helpers/app.js";
import { fixture } from "../helpers/files.js";
import { postgresForTests } from "../helpers/postgres.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * A database outage under a running service (issue #15): PostgreSQL is stopped and started again
 * while the app runs. Meanwhile requests that need the store answer 503 store_unavailable with
 * Retry-After, /health and /health/ready say why, the process does not crash (an unhandled pg
 * 'error' event would end this test's process), and afterwards everything accepted is graded.
 */

const correct = fixture("gradient-checking/correct-own-loops.mjs");
const json = { "content-type": "application/json" };

async function postAsync(app: FastifyInstance): Promise<string> {
  const res = await app.inject({ method: "POST", url: "/v1/submissions", headers: { ...json, prefer: "respond-async" }, payload: { assignment: "gradient-checking", source: correct } });
  if (res.statusCode !== 202) throw new Error(`expected 202, got ${res.statusCode}: ${res.body}`);
  return (res.json() as { id: string }).id;
}

async function graded(app: FastifyInstance, id: string): Promise<{ status: string; score: number } | undefined> {
  const res = await app.inject({ url: `/v1/submissions/${id}` });
  if (res.statusCode !== 200) return undefined;
  const body = res.json() as { status: string; score?: number };
  return body.status === "queued" || body.status === "running" ? undefined : { status: body.status, score: body.score ?? -1 };
}

const cluster = await postgresForTests(t);
if (cluster !== undefined) {
  t.test("while PostgreSQL is down the service answers 503 store_unavailable and says why; when it is back, everything accepted is graded", async (t) => {
    const url = await cluster.createDatabase();
    const app = await buildApp({ DATABASE_URL: url, RATE_LIMIT_PER_MIN: "1000000" });
    t.teardown(() => app.close());
    const crashes: unknown[] = [];
    const onCrash = (error: unknown) => crashes.push(error);
    process.on("uncaughtException", onCrash);
    t.teardown(() => process.off("uncaughtException", onCrash));

    const before = await postAsync(app);
    t.match(await waitFor("the first grading", () => graded(app, before)), { status: "graded", score: 100 });
    t.match((await app.inject({ url: "/health" })).json(), { status: "ok", store: { engine: "postgres", ok: true } });

    await cluster.stop();

    const refused = await app.inject({ method: "POST", url: "/v1/submissions", headers: json, payload: { assignment: "gradient-checking", source: correct } });
    t.equal(refused.statusCode, 503, "a sync submission is refused while the database is down");
    t.equal((refused.json() as { error: { code: string } }).error.code, "store_unavailable");
    t.match(refused.headers["retry-after"], /^\d+$/, "with Retry-After");
    t.notMatch(refused.body, /127\.0\.0\.1|ECONNREFUSED|postgres/i, "the client is not told the database's address");
    const asyncRefused = await app.inject({ method: "POST", url: "/v1/submissions", headers: { ...json, prefer: "respond-async" }, payload: { assignment: "gradient-checking", source: correct } });
    t.equal(asyncRefused.statusCode, 503, "an async one too: it could not be kept");
    const read = await app.inject({ url: `/v1/submissions/${before}` });
    t.equal(read.statusCode, 503, "and a read");

    const health = await app.inject({ url: "/health" });
    t.equal(health.statusCode, 503);
    t.match(health.json(), { status: "degraded", store: { engine: "postgres", ok: false, reason: /unreachable/ } }, "/health says why");
    const ready = await app.inject({ url: "/health/ready" });
    t.equal(ready.statusCode, 503);
    t.match(ready.json(), { status: "not_ready", checks: { store: { ok: false, reason: /unreachable|closed|terminat|connect/i } } }, "/health/ready says why");
    t.equal((await app.inject({ url: "/health/live" })).statusCode, 200, "the process is alive");

    // Some time down, so that the pool's idle clients, the listener and the probe all see it.
    await new Promise((r) => setTimeout(r, 1500));
    await cluster.start();

    await waitFor("/health to be ok again", async () => ((await app.inject({ url: "/health" })).statusCode === 200 ? true : undefined));
    const after = await Promise.all([1, 2, 3].map(() => postAsync(app)));
    for (const id of after) t.match(await waitFor(`grading ${id}`, () => graded(app, id)), { status: "graded", score: 100 }, "graded after the database came back");
    const sync = await app.inject({ method: "POST", url: "/v1/submissions", headers: json, payload: { assignment: "gradient-checking", source: correct } });
    t.equal(sync.statusCode, 200, "sync submissions are graded again");
    t.same(crashes, [], "nothing reached the process as an uncaught exception");
  });

  t.test("a restart (pg_ctl restart -m fast) while submissions wait loses none of them", async (t) => {
    const url = await cluster.createDatabase();
    const app = await buildApp({ DATABASE_URL: url, RATE_LIMIT_PER_MIN: "1000000" });
    t.teardown(() => app.close());
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(await postAsync(app));
    await cluster.restart();
    for (const id of ids) t.match(await waitFor(`grading ${id}`, () => graded(app, id).catch(() => undefined)), { status: "graded", score: 100 });
  });
}
