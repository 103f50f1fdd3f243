/**
 * Throughput with one and with two gradebox nodes sharing one PostgreSQL (issue #15), on this machine:
 * for each count, a fresh database, the nodes as their own processes (`node dist/src/server.js`,
 * ROLE=all, default settings: two workers per core each), a burst of async submissions of the
 * reference solution spread over the nodes, timed from the first POST until none is queued or running.
 * PostgreSQL is a throwaway cluster (test/helpers/postgres.ts) with its durability on.
 *
 *   node --no-node-snapshot dist/bench/nodes.js [--quick] [--submissions N]
 *
 * On one machine the nodes share its cores: a second node adds workers, not CPU, so this measures the
 * cost of coordinating through the database, not the gain of a second machine.
 */
import { availableParallelism, loadavg } from "node:os";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startPostgres } from "../test/helpers/postgres.js";
import { killGroup, startService, type Service } from "../test/helpers/service.js";
import { fixed, numberArg, parseArgs, referenceSource, sleep, submissionBody, table } from "./lib.js";

const args = parseArgs(process.argv.slice(2));
const quick = args.has("quick");
const total = numberArg(args, "submissions", quick ? 100 : 400);

interface Run { nodes: number; workers: number; submissions: number; seconds: number; perS: number; load: number }

async function countOpen(url: string): Promise<number | undefined> {
  let open = 0;
  for (const status of ["queued", "running"]) {
    const response = await fetch(`${url}/v1/submissions?status=${status}&limit=200`).catch(() => undefined);
    if (response?.status !== 200) return undefined;
    const body = await response.json() as { items: unknown[] };
    open += body.items.length;
  }
  return open;
}

async function run(databaseUrl: string, count: number): Promise<Run> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "gradebox-bench-nodes-"));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    PORT: "0",
    LOG_LEVEL: "info",
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    // One loopback client sends far more than 600 a minute.
    RATE_LIMIT_PER_MIN: "1000000",
    ASYNC_QUEUE_MAX: "100000",
  };
  const nodes: Service[] = [];
  try {
    for (let i = 0; i < count; i++) nodes.push(await startService(env));
    const source = referenceSource();
    // Warm up: each node grades one synchronously (workers forked, packs compiled).
    for (const node of nodes) await fetch(`${node.url}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json" }, body: submissionBody(source) });
    const health = await (await fetch(`${nodes[0]?.url}/health`)).json() as { workers: { workers: number } };
    const load = loadavg()[0] ?? 0;
    const started = Date.now();
    let next = 0;
    const body = submissionBody(source);
    const post = async () => {
      while (next < total) {
        const node = nodes[next++ % nodes.length] as Service;
        const response = await fetch(`${node.url}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json", prefer: "respond-async" }, body });
        if (response.status !== 202) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
      }
    };
    await Promise.all(Array.from({ length: 20 }, post));
    for (;;) {
      await sleep(200);
      if ((await countOpen((nodes[0] as Service).url)) === 0) break;
    }
    const seconds = (Date.now() - started) / 1000;
    return { nodes: count, workers: health.workers.workers * count, submissions: total, seconds, perS: total / seconds, load };
  } finally {
    await Promise.all(nodes.map(killGroup));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const cluster = await startPostgres({ fast: false });
try {
  const runs: Run[] = [];
  for (const count of [1, 2]) {
    const url = await cluster.createDatabase(`bench_nodes_${count}_${randomBytes(3).toString("hex")}`);
    runs.push(await run(url, count));
  }
  const date = new Date().toISOString().slice(0, 16).replace("T", " ");
  console.log(`gradebox several-nodes bench, ${date} UTC${quick ? " (--quick)" : ""}: ${availableParallelism()} cpus; ${total} async gradings of the reference solution per run`);
  console.log(table(["nodes", "workers in all", "seconds", "gradings/s", "load avg at start"], runs.map((r) => [r.nodes, r.workers, fixed(r.seconds), fixed(r.perS), fixed(r.load)])));
  const [one, two] = runs;
  if (one !== undefined && two !== undefined) console.log(`two nodes / one node: ${fixed((100 * two.perS) / one.perS)} %`);
  console.log(JSON.stringify({ date, quick, cpus: availableParallelism(), runs }));
} finally {
  await cluster.destroy();
}
