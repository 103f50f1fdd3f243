import t from "tap";
import { rmSync } from "node:fs";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { buildApp, tempDataDir } from "../helpers/app.js";
import { fixture, packFile } from "../helpers/files.js";

/**
 * The grading queue's roles and leases on one node (SQLite). Several nodes on one PostgreSQL are
 * in several-nodes.test.ts.
 */

const reference = packFile("reference/solution.mjs");

t.test("a worker node (ROLE=worker) grades but answers only /health, the probes and /metrics, not the API", async (t) => {
  const app = await buildApp({ ROLE: "worker" });
  t.teardown(() => app.close());
  t.equal((await app.inject({ method: "GET", url: "/health" })).statusCode, 200);
  t.equal((await app.inject({ method: "GET", url: "/health/ready" })).statusCode, 200);
  t.equal((await app.inject({ method: "GET", url: "/metrics" })).statusCode, 200);
  const post = await app.inject({ method: "POST", url: "/v1/submissions", payload: { assignment: "gradient-checking", source: reference } });
  t.equal(post.statusCode, 404);
  t.equal(post.json().error.code, "route_not_found");
  t.equal((await app.inject({ method: "GET", url: "/v1/assignments" })).statusCode, 404);
});

t.test("an api-only node (ROLE=api) grades nothing: with no worker node, a sync request is answered 503 queue_full after LEASE_S and recorded failed; an async one waits queued", async (t) => {
  const app = await buildApp({ ROLE: "api", LEASE_S: "1" });
  t.teardown(() => app.close());
  t.equal((await app.inject({ method: "GET", url: "/health" })).json().workers.workers, 1, "one sandbox worker, for the packs' self-tests only");
  const async = await app.inject({ method: "POST", url: "/v1/submissions", headers: { prefer: "respond-async" }, payload: { assignment: "gradient-checking", source: reference, student: "a" } });
  t.equal(async.statusCode, 202);
  const sync = await app.inject({ method: "POST", url: "/v1/submissions", payload: { assignment: "gradient-checking", source: reference, student: "s" } });
  t.equal(sync.statusCode, 503);
  t.equal(sync.json().error.code, "queue_full");
  t.ok(Number(sync.headers["retry-after"]) >= 1, "with Retry-After");
  const list = await app.inject({ method: "GET", url: "/v1/submissions?student=s" });
  const [item] = list.json().items;
  const record = (await app.inject({ method: "GET", url: `/v1/submissions/${item.id}` })).json();
  t.equal(record.status, "failed");
  t.equal(record.error.code, "queue_full");
  t.equal((await app.inject({ method: "GET", url: `/v1/submissions/${async.json().id}` })).json().status, "queued", "no node graded the async one");
});

t.test("a grading longer than LEASE_S keeps its lease by renewing it: it is graded once, in one attempt", async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const app = await buildApp({ DATA_DIR: dataDir, LEASE_S: "1", EVAL_TIMEOUT_MS: "10000", SUBMISSION_WALL_MS: "20000" });
  const source = fixture("slow/correct-after-2500ms.mjs");
  const accepted = await app.inject({ method: "POST", url: "/v1/submissions", headers: { prefer: "respond-async" }, payload: { assignment: "gradient-checking", source } });
  t.equal(accepted.statusCode, 202);
  const id = accepted.json().id as string;
  let record: { status: string; score?: number; attempts?: number } = { status: "queued" };
  for (let i = 0; i < 600 && (record.status === "queued" || record.status === "running"); i++) {
    await new Promise((r) => setTimeout(r, 100));
    record = (await app.inject({ method: "GET", url: `/v1/submissions/${id}` })).json();
  }
  t.equal(record.status, "graded");
  t.equal(record.score, 100);
  await app.close();
  const store = openSqliteStore({ dataDir });
  t.teardown(() => store.close());
  const stored = await store.get(id);
  t.equal(stored?.attempts, 1, "the lease never ran out, so no second attempt started");
  t.ok((stored?.finishedAt ?? 0) - (stored?.startedAt ?? 0) > 1000, "the grading did last longer than the lease");
});
