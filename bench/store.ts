/**
 * The store's costs (issue #13), measured on services in their own processes (`node dist/src/server.js`,
 * as `npm start` runs it), each on 127.0.0.1 with its own DATA_DIR:
 *   1. Persistence: sync throughput and p50 at 10 connections with STORE=sqlite against STORE=memory
 *      (the same SQL in memory, no disk): target at most 5% lost.
 *   2. Async intake: the 202's latency at 50 connections over a 2,000-submission burst (target p99 ≤ 10 ms).
 *   3. Drain: how fast that 2,000 backlog is graded, against the sync throughput; and the latency of
 *      sync requests sent one at a time while the backlog drains (sync work goes first).
 * Run alone with `node --no-node-snapshot dist/bench/store.js [--quick]`, or as the last phase of `npm run bench`.
 */
import autocannon from "autocannon";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fixed, parseArgs, referenceSource, sleep, submissionBody, summarize, table, type Summary } from "./lib.js";
import { startServerProcess } from "./server-process.js";

export interface StoreBenchOptions {
  durationS: number;
  backlog: number;
  asyncConnections: number;
}

export interface StoreBenchResult {
  sync: Array<{ store: string; requestsPerS: number; p50Ms: number; p99Ms: number; errors: number }>;
  persistenceCostPct: number;
  async202: { n: number; p50Ms: number; p99Ms: number; maxMs: number; non202: number };
  drain: { submissions: number; seconds: number; perS: number; syncPerS: number; ratio: number };
  syncDuringDrain: Summary;
  syncIdle: Summary;
}

interface Running { url: string; dataDir: string; stop(): Promise<void> }

/** A service with its own DATA_DIR, removed when it stops. */
async function startServer(env: Record<string, string>): Promise<Running> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "gradebox-bench-"));
  const server = await startServerProcess({ DATA_DIR: dataDir, ...env });
  return {
    url: server.url, dataDir,
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function cannon(options: autocannon.Options): Promise<autocannon.Result> {
  return autocannon(options) as unknown as Promise<autocannon.Result>;
}

async function syncLoad(url: string, seconds: number): Promise<{ requestsPerS: number; p50Ms: number; p99Ms: number; errors: number }> {
  const body = submissionBody(referenceSource());
  const result = await cannon({ url: `${url}/v1/submissions`, method: "POST", headers: { "content-type": "application/json" }, body, connections: 10, duration: seconds });
  return { requestsPerS: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, errors: result.non2xx + result.errors + result.timeouts };
}

async function queuedCount(url: string): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page = await fetch(`${url}/v1/submissions?status=queued&limit=200${cursor === null ? "" : `&cursor=${cursor}`}`).then((r) => r.json()) as { items: unknown[]; nextCursor: string | null };
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return count;
}

async function timedSync(url: string, body: string): Promise<number> {
  const t0 = performance.now();
  const response = await fetch(`${url}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json" }, body });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`sync request answered ${response.status}`);
  return performance.now() - t0;
}

export async function storeBench(options: StoreBenchOptions, progress: (text: string) => void = () => undefined): Promise<StoreBenchResult> {
  const sync: StoreBenchResult["sync"] = [];
  for (const store of ["memory", "sqlite"]) {
    progress(`store: STORE=${store}, warm-up then sync at 10 connections for ${options.durationS} s`);
    const service = await startServer({ STORE: store });
    try {
      await syncLoad(service.url, Math.max(2, Math.round(options.durationS / 3)));
      sync.push({ store, ...(await syncLoad(service.url, options.durationS)) });
    } finally {
      await service.stop();
    }
  }
  const memory = sync[0];
  const sqlite = sync[1];
  const persistenceCostPct = memory !== undefined && sqlite !== undefined ? (100 * (memory.requestsPerS - sqlite.requestsPerS)) / memory.requestsPerS : NaN;

  progress(`store: ${options.backlog} async submissions at ${options.asyncConnections} connections, then the drain`);
  const service = await startServer({ STORE: "sqlite" });
  try {
    const body = submissionBody(referenceSource());
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) idle.push(await timedSync(service.url, body));
    const burstStarted = performance.now();
    const burst = await cannon({
      url: `${service.url}/v1/submissions`, method: "POST", headers: { "content-type": "application/json", prefer: "respond-async" }, body,
      connections: options.asyncConnections, amount: options.backlog,
    });
    const during: number[] = [];
    // Sync requests one at a time while the backlog drains: they should wait for a worker, not for the backlog.
    let draining = true;
    const probe = (async () => {
      while (draining && during.length < 200) {
        during.push(await timedSync(service.url, body));
        await sleep(100);
      }
    })();
    let left = await queuedCount(service.url);
    while (left > 0) {
      await sleep(250);
      left = await queuedCount(service.url);
    }
    draining = false;
    await probe;
    const seconds = (performance.now() - burstStarted) / 1000;
    const syncPerS = sqlite?.requestsPerS ?? NaN;
    return {
      sync,
      persistenceCostPct,
      async202: { n: burst.requests.total, p50Ms: burst.latency.p50, p99Ms: burst.latency.p99, maxMs: burst.latency.max, non202: burst.non2xx + burst.errors },
      drain: { submissions: options.backlog, seconds, perS: options.backlog / seconds, syncPerS, ratio: options.backlog / seconds / syncPerS },
      syncDuringDrain: summarize(during),
      syncIdle: summarize(idle),
    };
  } finally {
    await service.stop();
  }
}

export function renderStoreBench(r: StoreBenchResult): string {
  return [
    "Store (issue #13): sync at 10 connections, with the SQLite store and with STORE=memory",
    table(["store", "req/s", "p50 ms", "p99 ms", "errors"], r.sync.map((s) => [s.store, fixed(s.requestsPerS), fixed(s.p50Ms), fixed(s.p99Ms), s.errors])),
    `persistence costs ${fixed(r.persistenceCostPct)} % of sync throughput (target ≤ 5 %)`,
    `async 202 at 50 connections over ${r.async202.n} submissions: p50 ${fixed(r.async202.p50Ms)} ms, p99 ${fixed(r.async202.p99Ms)} ms (target ≤ 10 ms), max ${fixed(r.async202.maxMs)} ms, non-2xx ${r.async202.non202}`,
    `drain: ${r.drain.submissions} async submissions graded in ${fixed(r.drain.seconds)} s = ${fixed(r.drain.perS)}/s, against ${fixed(r.drain.syncPerS)} req/s sync (${fixed(100 * r.drain.ratio, 0)} %)`,
    `a sync request sent while the backlog drains: p50 ${fixed(r.syncDuringDrain.p50)} ms, p99 ${fixed(r.syncDuringDrain.p99)} ms (n=${r.syncDuringDrain.n}); on an idle service p50 ${fixed(r.syncIdle.p50)} ms`,
  ].join("\n");
}

if (process.argv[1]?.endsWith(`${path.sep}store.js`)) {
  const args = parseArgs(process.argv.slice(2));
  const quick = args.has("quick");
  const result = await storeBench({ durationS: quick ? 3 : 10, backlog: 2000, asyncConnections: 50 }, (text) => process.stderr.write(`${text}\n`));
  process.stdout.write(args.has("json") ? `${JSON.stringify(result, null, 2)}\n` : `${renderStoreBench(result)}\n`);
}
