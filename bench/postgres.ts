/**
 * The queue's coordination cost on each engine (issue #15), with grading stubbed out: what the store
 * adds to every submission, and how many claims one PostgreSQL sustains, so the README can say how
 * many grading nodes one database carries.
 *   1. Coordination cost per submission, one at a time: the store's work from the claim to the stored
 *      result (claimNext, then finish with a ready feedback), in ms and in database round trips, on
 *      SQLite (a file, as the service runs it) and on PostgreSQL; and the durable intake (create) alone.
 *   2. Claims per second: CLAIMERS concurrent loops of claimNext + finish, spread over NODES stores
 *      (each with its own pool, as separate nodes would have) against one PostgreSQL, draining a
 *      backlog; target ≥ 2,000/s.
 * PostgreSQL is a throwaway cluster (test/helpers/postgres.ts) with its default durability (fsync and
 * synchronous_commit on), unless DATABASE_URL names a server to use instead: the bench then creates
 * (and replaces) its own gradebox_bench_* databases there, so the URL's role needs CREATEDB.
 * Run with `npm run bench:postgres [-- --quick]`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { Feedback } from "../src/grading/feedback.js";
import { openPostgresStore } from "../src/store/postgres/index.js";
import { openSqliteStore } from "../src/store/sqlite/index.js";
import type { NewSubmission, SubmissionStore } from "../src/store/store.js";
import { startPostgres, type PostgresCluster } from "../test/helpers/postgres.js";
import { fixed, machine, numberArg, parseArgs, summarize, table, type Summary } from "./lib.js";

const LEASE_MS = 90_000;
const EXHAUSTED = { code: "grading_failed", message: "stopped too often" };
const args = parseArgs(process.argv.slice(2));
const quick = args.has("quick");
const SERIAL = numberArg(args, "serial", quick ? 300 : 2000);
const BACKLOG = numberArg(args, "backlog", quick ? 5000 : 30000);
const NODES = numberArg(args, "nodes", 4);
const CLAIMERS = numberArg(args, "claimers", 32);
const SOURCE = "export function f(x) { return x * 2; }\n".repeat(20);

/** Counts every statement a pg client sends (a pooled query is one; a transaction is BEGIN, …, COMMIT). */
let roundTrips = 0;
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...rest: unknown[]) {
  roundTrips++;
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, rest);
} as typeof pg.Client.prototype.query;

let counter = 0;
function newSubmission(): NewSubmission {
  counter++;
  return {
    id: `bench-${process.pid}-${counter}`, assignment: "gradient-checking", assignmentVersion: "0123456789abcdef", language: "javascript",
    exercises: null, format: "native", source: SOURCE, sourceSha256: "a".repeat(64), student: `student-${counter % 500}`, metadata: null,
    limits: null, idempotencyKey: null, requestHash: null, clientId: null, callbackUrl: null, mode: "async", receivedAt: Date.now(),
  };
}

function feedbackFor(id: string): Feedback {
  return {
    id, assignment: "gradient-checking", assignmentVersion: "fedcba9876543210", language: "javascript", status: "graded",
    summary: "19 of 19 tests passed", score: 100, maxScore: 100, exercises: [], output: "", outputTruncated: false, durationMs: 75,
  } as Feedback;
}

interface SerialResult { engine: string; create: Summary; coordination: Summary; roundTripsPerCreate: number; roundTripsPerCoordination: number }

/** One submission at a time: create it, then claim it and store its (ready) result. */
async function serial(engine: string, store: SubmissionStore, n: number): Promise<SerialResult> {
  const creates: number[] = [];
  const coordination: number[] = [];
  let createTrips = 0;
  let coordinationTrips = 0;
  for (let i = 0; i < n; i++) {
    const s = newSubmission();
    let trips = roundTrips;
    let t0 = performance.now();
    await store.create(s, 86_400_000);
    creates.push(performance.now() - t0);
    createTrips += roundTrips - trips;
    trips = roundTrips;
    t0 = performance.now();
    const { claimed } = await store.claimNext(Date.now(), LEASE_MS, 3, EXHAUSTED, { sync: true });
    if (claimed === undefined) throw new Error("nothing claimed");
    const done = await store.finish(claimed.id, { status: "graded", feedback: feedbackFor(claimed.id) }, Date.now(), null, claimed.attempts);
    if (done === undefined) throw new Error("not finished");
    coordination.push(performance.now() - t0);
    coordinationTrips += roundTrips - trips;
  }
  return { engine, create: summarize(creates), coordination: summarize(coordination), roundTripsPerCreate: createTrips / n, roundTripsPerCoordination: coordinationTrips / n };
}

/** Fills the queue fast, in one statement (the intake's own cost is measured above). */
async function fillBacklog(url: string, n: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      INSERT INTO submissions (id, assignment, assignment_version, language, format, source, source_sha256, student, mode, background, status, received_at)
      SELECT 'backlog-' || g, 'gradient-checking', '0123456789abcdef', 'javascript', 'native', $1, repeat('a', 64), 'student-' || (g % 500), 'async', TRUE, 'queued', $2::bigint + g
      FROM generate_series(1, $3::integer) AS g`, [SOURCE, Date.now(), n]);
    await client.query("ANALYZE submissions");
  } finally {
    await client.end();
  }
}

interface ThroughputResult { nodes: number; claimers: number; claims: number; seconds: number; perS: number; claim: Summary; finish: Summary }

async function throughput(url: string, backlog: number, nodes: number, claimers: number): Promise<ThroughputResult> {
  const perNode = Math.ceil(claimers / nodes);
  // Opening applies the migrations; then the backlog goes into the new table.
  const stores = await Promise.all(Array.from({ length: nodes }, () => openPostgresStore({ url, poolMax: perNode, isolated: true })));
  await fillBacklog(url, backlog);
  const claimMs: number[] = [];
  const finishMs: number[] = [];
  let claims = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: claimers }, async (_, i) => {
    const store = stores[i % nodes] as SubmissionStore;
    for (;;) {
      let t0 = performance.now();
      const { claimed } = await store.claimNext(Date.now(), LEASE_MS, 3, EXHAUSTED, { sync: true });
      claimMs.push(performance.now() - t0);
      if (claimed === undefined) return;
      t0 = performance.now();
      await store.finish(claimed.id, { status: "graded", feedback: feedbackFor(claimed.id) }, Date.now(), null, claimed.attempts);
      finishMs.push(performance.now() - t0);
      claims++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(stores.map((s) => s.close()));
  return { nodes, claimers, claims, seconds, perS: claims / seconds, claim: summarize(claimMs), finish: summarize(finishMs) };
}

export interface PostgresBenchResult {
  machine: Record<string, string | number>;
  serial: SerialResult[];
  throughput: ThroughputResult[];
  postgres: string;
}

export function renderPostgresBench(r: PostgresBenchResult): string {
  const lines = [`PostgreSQL: ${r.postgres}`, "", "Coordination cost per submission (one at a time, grading stubbed out):", table(
    ["engine", "claim → stored result p50 ms", "p99 ms", "round trips", "durable create p50 ms", "p99 ms", "round trips"],
    r.serial.map((s) => [s.engine, fixed(s.coordination.p50, 2), fixed(s.coordination.p99, 2), s.engine === "sqlite" ? "0 (in-process)" : fixed(s.roundTripsPerCoordination, 1),
      fixed(s.create.p50, 2), fixed(s.create.p99, 2), s.engine === "sqlite" ? "0 (in-process)" : fixed(s.roundTripsPerCreate, 1)]),
  ), "", "Claims per second on one PostgreSQL (claimNext + finish, grading stubbed out; target ≥ 2,000/s):", table(
    ["nodes", "claimers", "claims", "s", "claims/s", "claim p50 / p99 ms", "finish p50 / p99 ms", "target"],
    r.throughput.map((t) => [t.nodes, t.claimers, t.claims, fixed(t.seconds, 1), fixed(t.perS, 0), `${fixed(t.claim.p50, 2)} / ${fixed(t.claim.p99, 2)}`,
      `${fixed(t.finish.p50, 2)} / ${fixed(t.finish.p99, 2)}`, t.perS >= 2000 ? "met" : "not met"]),
  )];
  return lines.join("\n");
}

async function main(): Promise<void> {
  let cluster: PostgresCluster | undefined;
  let adminUrl = process.env.DATABASE_URL ?? "";
  const settings = (args.get("pg-settings") as string | undefined)?.split(",").filter((s) => s !== "").map((s) => s.split("=") as [string, string]);
  if (adminUrl === "") {
    cluster = await startPostgres({ fast: false, ...(settings !== undefined ? { settings: Object.fromEntries(settings) } : {}) });
    adminUrl = cluster.url();
  }
  const newDatabase = async (name: string): Promise<string> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`);
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    } finally {
      await client.end();
    }
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const dataDir = mkdtempSync(path.join(tmpdir(), "gradebox-bench-pg-"));
  try {
    const version = await (async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      const v = (await client.query("SELECT current_setting('server_version') AS v, current_setting('fsync') AS f, current_setting('synchronous_commit') AS s")).rows[0] as { v: string; f: string; s: string };
      await client.end();
      return `${v.v} (${cluster !== undefined ? "throwaway cluster on loopback" : "DATABASE_URL"}; fsync ${v.f}, synchronous_commit ${v.s})`;
    })();
    const result: PostgresBenchResult = { machine: machine(), serial: [], throughput: [], postgres: version };
    process.stderr.write(`serial: ${SERIAL} submissions on each engine\n`);
    const sqlite = openSqliteStore({ dataDir });
    result.serial.push(await serial("sqlite", sqlite, SERIAL));
    await sqlite.close();
    const pgStore = await openPostgresStore({ url: await newDatabase("gradebox_bench_serial"), poolMax: 4, isolated: true });
    result.serial.push(await serial("postgres", pgStore, SERIAL));
    await pgStore.close();
    for (const [nodes, claimers] of [[1, 8], [NODES, CLAIMERS]] as const) {
      process.stderr.write(`throughput: ${nodes} node(s), ${claimers} claimers, ${BACKLOG} queued\n`);
      result.throughput.push(await throughput(await newDatabase(`gradebox_bench_${nodes}_${claimers}`), BACKLOG, nodes, claimers));
    }
    process.stdout.write(`${renderPostgresBench(result)}\n`);
    writeFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "postgres-results.json"), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    await cluster?.destroy();
  }
}

await main();
