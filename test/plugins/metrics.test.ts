import t from "tap";
import request from "supertest";
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { SqliteKeyStore } from "../../src/auth/sqlite-keys.js";
import { buildApp, fastLimits, root, tempDataDir } from "../helpers/app.js";
import { metricValue, scrape as scrapeMetrics } from "../helpers/metrics.js";

// Issue 14: GET /metrics in the Prometheus text format, with bounded gradebox_* series.

const DATA_DIR = tempDataDir();
const METRICS_TOKEN = "scrape-token";
// A small heap and RSS cap, so the memory bomb below takes its worker down quickly.
const app = await buildApp({ WORKERS: "1", DATA_DIR, METRICS_TOKEN, ...fastLimits, ISOLATE_MEMORY_MB: "16", WORKER_RSS_MB: "160" });
t.teardown(() => app.close());
const fixture = (name: string) => readFile(path.join(root, "test", "fixtures", name), "utf8");

const scrape = () => scrapeMetrics(app);
const value = metricValue;

t.test("gradings, their durations, sandbox verdicts, worker exits and HTTP answers are counted", async (t) => {
  const before = await scrape();
  const passed = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: await fixture("gradient-checking/correct-own-loops.mjs") });
  t.equal(passed.status, 200);
  const looping = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: await fixture("hostile/loop-in-export.mjs") });
  t.equal(looping.status, 200);
  const broken = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: "export function (" });
  t.equal(broken.body.status, "rejected");
  await request(app.server).get("/no/such/path");
  const after = await scrape();
  const delta = (series: string) => value(after, series) - value(before, series);

  t.equal(delta('gradebox_gradings_total{assignment="gradient-checking",status="passed"}'), 1);
  t.equal(delta('gradebox_gradings_total{assignment="gradient-checking",status="failed"}'), 1);
  t.equal(delta('gradebox_gradings_total{assignment="gradient-checking",status="rejected"}'), 1);
  t.equal(delta("gradebox_grading_duration_seconds_count"), 3);
  t.ok(value(after, 'gradebox_grading_duration_seconds_bucket{le="10"}') >= 3, "durations fall in the 20 ms – 10 s buckets");
  t.ok(delta('gradebox_sandbox_verdicts_total{kind="timeout"}') >= 1, "the loop is a timeout verdict");
  t.ok(delta('gradebox_http_requests_total{route="POST /v1/submissions",status="200"}') === 3, "requests are counted by route pattern");
  t.equal(delta('gradebox_http_requests_total{route="unmatched",status="404"}'), 1, "a 404 is 'unmatched', never its raw path");
  t.equal(value(after, 'gradebox_workers{state="idle"}') + value(after, 'gradebox_workers{state="busy"}') + value(after, 'gradebox_workers{state="starting"}'), 1, "one worker");
  t.match(after, /^gradebox_queue_depth\{mode="sync"\} 0$/m);
  t.match(after, /^# TYPE gradebox_webhook_deliveries_total counter$/m);
  t.match(after, /^process_cpu_user_seconds_total /m, "with the default process metrics");
  t.notOk(/no\/such\/path|gbx_|export function/.test(after), "no raw path or source in any label");

});

t.test("a worker a memory bomb takes down is counted by cause, and its verdict by kind", async (t) => {
  // Where V8 gives up decides the cause: the watchdog disposed the isolate (tainted), V8 aborted the
  // process (out_of_memory), or the process outgrew WORKER_RSS_MB (rss). Each means one exit.
  const memoryExits = (text: string) => ["tainted", "out_of_memory", "rss"].reduce((sum, cause) => sum + value(text, `gradebox_worker_exits_total{cause="${cause}"}`), 0);
  const before = await scrape();
  const bomb = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: await fixture("hostile/memory-array-fill-1e8.mjs") });
  t.equal(bomb.status, 200);
  let after = await scrape();
  for (let i = 0; i < 200 && memoryExits(after) === memoryExits(before); i++) {
    await new Promise((r) => setTimeout(r, 50));
    after = await scrape();
  }
  t.equal(memoryExits(after) - memoryExits(before), 1, "the worker that ran it exits, counted once by its cause");
  t.ok(value(after, 'gradebox_sandbox_verdicts_total{kind="memory"}') > value(before, 'gradebox_sandbox_verdicts_total{kind="memory"}'), "a memory verdict");
});

t.test("metrics are open on loopback; from elsewhere they need METRICS_TOKEN or an admin key", async (t) => {
  const remote = { remoteAddress: "203.0.113.9" };
  const anonymous = await app.inject({ url: "/metrics", ...remote });
  t.equal(anonymous.statusCode, 401);
  t.equal(anonymous.json().error.code, "unauthorized");
  t.equal((await app.inject({ url: "/metrics", headers: { authorization: `Bearer ${METRICS_TOKEN}` }, ...remote })).statusCode, 200);
  const keys = new SqliteKeyStore(DATA_DIR);
  t.teardown(() => keys.close());
  const admin = keys.create({ name: "ops", scopes: ["admin"] });
  const reader = keys.create({ name: "dash", scopes: ["read"] });
  t.equal((await app.inject({ url: "/metrics", headers: { authorization: `Bearer ${admin.secret}` }, ...remote })).statusCode, 200);
  const forbidden = await app.inject({ url: "/metrics", headers: { authorization: `Bearer ${reader.secret}` }, ...remote });
  t.equal(forbidden.statusCode, 403);
  t.equal((await app.inject({ url: "/metrics", remoteAddress: "127.0.0.1" })).statusCode, 200);
});

// CI installs promtool (.ci/run); a developer without Debian's prometheus package sees this test skipped, with the reason.
const promtool = spawnSync("promtool", ["--version"], { encoding: "utf8" });
const noPromtool = promtool.error === undefined ? false : "promtool is not installed (Debian's prometheus package): the metrics lint was NOT run";

t.test("promtool check metrics finds nothing wrong with any gradebox_ series", { skip: noPromtool }, async (t) => {
  const text = await scrape();
  t.match(text, /gradebox_grading_duration_seconds_bucket/, "the output has the gradebox_ series to check");
  const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  const findings = `${check.stdout}\n${check.stderr}`.split("\n").filter((l) => l.trim() !== "");
  t.notOk(/error while linting|parse error/i.test(findings.join("\n")), "promtool parses the output");
  t.same(findings.filter((l) => l.includes("gradebox_")), [], "no finding on a gradebox_ series");
});
