/**
 * Regrades and live traffic (issue #16): a service in its own process (`node dist/src/server.js`) with
 * N stored submissions (default 2,000) of the gradient-checking pack, then
 *   1. live sync submissions sent one at a time on the idle service: p50 / p99;
 *   2. the same while a real regrade of all N runs: p50 / p99 (target: p50 within 1.5x of idle), and
 *      the regrade's own rate meanwhile;
 *   3. the regrade alone on an otherwise idle service: its rate (it takes every worker REGRADE_WORKERS allows).
 * The stored submissions are seeded straight into the database (their feedback is a real grading of the
 * same source by the service) so that the bench spends its time on the regrades, not on seeding.
 * Run with `npm run bench:regrades [-- --n 2000 --live 60 --quick]`; settings come from the environment
 * (`WORKERS=2 REGRADE_WORKERS=1 npm run bench:regrades`). Figures go to stdout and bench/regrades-results.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openSqliteStore } from "../src/store/sqlite/index.js";
import type { Feedback } from "../src/grading/feedback.js";
import { fixed, numberArg, packFile, parseArgs, referenceSource, sleep, summarize, table, type Summary } from "./lib.js";
import { startServerProcess, type ServerProcess } from "./server-process.js";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const ADMIN_TOKEN = "bench-regrades-admin";
const ASSIGNMENT = "gradient-checking";

function startServer(dataDir: string): Promise<ServerProcess> {
  return startServerProcess({ DATA_DIR: dataDir, ADMIN_TOKEN });
}

const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };

async function submitSync(url: string, source: string): Promise<{ ms: number; feedback: Feedback }> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ assignment: ASSIGNMENT, source }) });
  const feedback = await response.json() as Feedback;
  if (response.status !== 200) throw new Error(`sync submission answered ${response.status}: ${JSON.stringify(feedback)}`);
  return { ms: performance.now() - started, feedback };
}

interface RegradeState { id: string; status: string; total: number; done: number; createdAt: string; finishedAt: string | null; counts: Record<string, number> }

async function regradeState(url: string, id: string): Promise<RegradeState> {
  return (await fetch(`${url}/v1/regrades/${id}`, { headers: admin })).json() as Promise<RegradeState>;
}

async function startRegrade(url: string): Promise<RegradeState> {
  const response = await fetch(`${url}/v1/assignments/${ASSIGNMENT}/regrades`, { method: "POST", headers: admin, body: JSON.stringify({ dryRun: false, scope: "all" }) });
  if (response.status !== 202) throw new Error(`regrade answered ${response.status}: ${await response.text()}`);
  return response.json() as Promise<RegradeState>;
}

/** Sync submissions one at a time, for `count` of them or until `stop()` says so. */
async function liveLatencies(url: string, count: number, stop: () => boolean = () => false): Promise<number[]> {
  const source = referenceSource();
  const times: number[] = [];
  for (let i = 0; i < count && !stop(); i++) times.push((await submitSync(url, source)).ms);
  return times;
}

async function waitDone(url: string, id: string): Promise<RegradeState> {
  for (;;) {
    const state = await regradeState(url, id);
    if (state.status !== "running") return state;
    await sleep(250);
  }
}

function rate(state: RegradeState): number {
  return state.done / ((Date.parse(state.finishedAt ?? new Date().toISOString()) - Date.parse(state.createdAt)) / 1000);
}

const args = parseArgs(process.argv.slice(2));
const quick = args.has("quick");
const n = numberArg(args, "n", quick ? 300 : 2000);
const liveCount = numberArg(args, "live", quick ? 20 : 60);

// 1. Real gradings of a few sources (the reference and three mutants' files), to seed with.
const dataDir = mkdtempSync(path.join(tmpdir(), "gradebox-bench-regrades-"));
let server = await startServer(dataDir);
const sources = [referenceSource(), ...["mutants/gradient-check-n-norm-without-abs.mjs", "mutants/gradient-check-n-norm-without-sqrt.mjs", "mutants/gradient-check-n-returns-array.mjs"].map(packFile)];
const seeds: Array<{ source: string; feedback: Feedback }> = [];
for (const source of sources) seeds.push({ source, feedback: (await submitSync(server.url, source)).feedback });
await server.stop();

// 2. N stored submissions, each graded (history: submitted), cycling through the seeds.
const store = openSqliteStore({ dataDir });
const base = Date.now();
for (let i = 0; i < n; i++) {
  const seed = seeds[i % seeds.length]!;
  const id = `bench-${i}`;
  await store.create({
    id, assignment: ASSIGNMENT, assignmentVersion: seed.feedback.assignmentVersion, language: "javascript", exercises: null, format: "native",
    source: seed.source, sourceSha256: "0".repeat(64), student: `student-${i}`, metadata: null, limits: null, idempotencyKey: null, requestHash: null,
    clientId: null, callbackUrl: null, mode: "sync", receivedAt: base + i,
  }, 0);
  await store.start(id, base + i, 60_000);
  await store.finish(id, { status: seed.feedback.status as "graded", feedback: { ...seed.feedback, id } }, base + i, null);
}
await store.close();

server = await startServer(dataDir);
const workers = Number(process.env.WORKERS ?? 4);
console.log(`regrades bench: ${n} stored submissions (${seeds.length} sources), ${liveCount} live sync submissions per phase, WORKERS=${workers}, REGRADE_WORKERS=${process.env.REGRADE_WORKERS ?? "0 (one per core, one fewer during live traffic)"}, ${cpus().length} cores`);

// Warm the workers, then the idle baseline.
await liveLatencies(server.url, 5);
const idle = summarize(await liveLatencies(server.url, liveCount));

// 3. Live traffic during a regrade (only the submissions answered while it ran count).
const first = await startRegrade(server.url);
let running = true;
const watcher = (async () => {
  const state = await waitDone(server.url, first.id);
  running = false;
  return state;
})();
const during = await liveLatencies(server.url, liveCount, () => !running);
const withLive = await watcher;
const duringSummary = summarize(during);

// 4. The regrade alone.
const second = await waitDone(server.url, (await startRegrade(server.url)).id);
await server.stop();
rmSync(dataDir, { recursive: true, force: true });

const ratio = duringSummary.p50 / idle.p50;
const rows: Array<Array<string | number>> = [
  ["live sync, idle service", fixed(idle.p50), fixed(idle.p99), idle.n, ""],
  ["live sync, during a regrade", fixed(duringSummary.p50), fixed(duringSummary.p99), duringSummary.n, `x${fixed(ratio, 2)} of idle p50`],
];
console.log(table(["phase", "p50 ms", "p99 ms", "n", "notes"], rows));
console.log(table(["regrade", "submissions", "seconds", "per s", "counts"], [
  ["with live traffic (1 connection)", withLive.done, fixed(withLive.done / rate(withLive)), fixed(rate(withLive)), JSON.stringify(withLive.counts)],
  ["alone", second.done, fixed(second.done / rate(second)), fixed(rate(second)), JSON.stringify(second.counts)],
]));
console.log(`target: live sync p50 during a regrade within 1.5x of idle: ${ratio <= 1.5 ? "met" : "not met"} (x${fixed(ratio, 2)})`);
const results: { n: number; workers: number; idle: Summary; during: Summary; ratio: number; regradeWithLivePerS: number; regradeAlonePerS: number } = {
  n, workers, idle, during: duringSummary, ratio, regradeWithLivePerS: rate(withLive), regradeAlonePerS: rate(second),
};
writeFileSync(path.join(benchDir, "..", "..", "bench", "regrades-results.json"), `${JSON.stringify(results, null, 2)}\n`);
