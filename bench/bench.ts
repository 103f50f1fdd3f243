/**
 * `npm run bench`: figures for the grading service, measured over HTTP on loopback with the real app
 * started in this process (Fastify(serverOptions(config)) + app, listening on 127.0.0.1:0).
 * The submission is the gradient-checking pack's reference solution. It prints figures and compares
 * them with perf-primitives.md §6b; it never fails on them (exit code 0 unless the bench itself breaks).
 *
 *   --quick                a ~40 s run (fewer gradings, 2–3 s phases, each hostile submission once)
 *   --json                 print one JSON document instead of the tables (progress goes to stderr)
 *   --floor N              gradings of the in-isolate floor, without pool/IPC/HTTP (default 30, quick 20; 0 skips)
 *   --warmup N             warm-up gradings (default 20, quick 10)
 *   --n N                  sequential gradings, 1 in flight (default 200, quick 100)
 *   --concurrency 2,4,10   closed-loop client counts
 *   --duration S           seconds per closed-loop run (default 6, quick 2)
 *   --rates 50%,20,40      open-loop arrival rates in req/s; "50%" is half the best closed-loop throughput
 *   --open-duration S      seconds per open-loop run (default 6, quick 3)
 *   --hostile-repeats N    times each hostile submission is sent (default 2, quick 1); quick sends only
 *                          the loops and the memory bomb, the full run the soak's six kinds and a loop in every call
 *   --no-full-loop         skip the submission that loops in every call (it costs the whole wall budget)
 * Service settings come from the environment as for the server (e.g. WORKERS=4 npm run bench), except
 * LOG_LEVEL (silent), HOST (127.0.0.1) and PORT (ephemeral).
 */
import { fork } from "node:child_process";
import type { FloorRequest, FloorSample } from "./floor.js";
import { hostileMix, loopAtTopLevel, loopInEveryCall, loopInExport, memoryBomb, type Kind } from "./hostile.js";
import { jobFor } from "../src/grading/grade.js";
import {
  ASSIGNMENT, closeClient, collectGarbage, configSummary, countInto, cpuMark, cpuUse, describeCpu, describeErrors,
  fixed, honestOutcome, kbToMb, machine, mb, numberArg, parseArgs, poolSettled, referenceSource, sleep,
  startService, submissionBody, submit, summarize, table, WorkerSampler, workersMemory,
  type CpuUse, type Graded, type Service, type Summary,
} from "./lib.js";

const args = parseArgs(process.argv.slice(2));
const quick = args.has("quick");
const asJson = args.has("json");

function ratesArg(): Array<number | string> {
  const value = args.get("rates");
  if (value === undefined) return ["50%", 20, 40];
  if (value === true) throw new Error("--rates needs a list such as 50%,20,40");
  return value.split(",").filter((s) => s !== "").map((s) => {
    if (/^\d+(\.\d+)?%$/.test(s)) return s;
    const n = Number(s);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--rates: ${s} is neither a rate nor a percentage`);
    return n;
  });
}

const opts = {
  floor: numberArg(args, "floor", quick ? 20 : 30),
  warmup: numberArg(args, "warmup", quick ? 10 : 20),
  sequential: numberArg(args, "n", quick ? 100 : 200),
  concurrency: (args.get("concurrency") === undefined ? [2, 4, 10] : String(args.get("concurrency")).split(",").map(Number)).filter((n) => n > 0),
  closedSeconds: numberArg(args, "duration", quick ? 2 : 6),
  rates: ratesArg(),
  openSeconds: numberArg(args, "open-duration", quick ? 3 : 6),
  hostileRepeats: Math.max(1, numberArg(args, "hostile-repeats", quick ? 1 : 2)),
  fullBudgetLoop: !quick && !args.has("no-full-loop"),
};

const benchStarted = performance.now();
const progress = (text: string): void => {
  process.stderr.write(`[bench ${((performance.now() - benchStarted) / 1000).toFixed(1)} s] ${text}\n`);
};

const reference = referenceSource();
const honestBody = submissionBody(reference);

// ---- phases -----------------------------------------------------------------------------------------------------------

interface FloorResult {
  n: number;
  flags: string;
  total: Summary;
  newIsolateMs: number;
  loadMs: number;
  callsMs: number;
  disposeMs: number;
  /** Median ms per grading spent in each export. */
  byExportMs: Record<string, number>;
  allOk: boolean;
}

/** The same job in a fresh isolate per grading in one --jitless process: no pool, IPC or HTTP. */
async function floor(service: Service, n: number): Promise<FloorResult> {
  const gradable = service.inner.graders.get(ASSIGNMENT);
  if (gradable === undefined) throw new Error(`the ${ASSIGNMENT} pack is not loaded`);
  const { spec } = jobFor(gradable.pack, reference, gradable.limits);
  const flags = ["--no-node-snapshot", "--jitless"]; // what pool.ts starts the workers with
  const child = fork(new URL("./floor.js", import.meta.url), [], { execArgv: flags, stdio: ["ignore", "ignore", "pipe", "ipc"], serialization: "json" });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const request: FloorRequest = { spec, warmup: 5, n, killGraceMs: service.config.killGraceMs, resultMaxDepth: service.config.resultMaxDepth };
  const reply = await new Promise<{ samples?: FloorSample[]; error?: string }>((resolve, reject) => {
    child.once("message", (m) => resolve(m as { samples?: FloorSample[]; error?: string }));
    child.once("exit", (code, signal) => reject(new Error(`the floor process exited (${signal ?? code}) without an answer: ${stderr}`)));
    child.send(request);
  });
  child.removeAllListeners("exit");
  if (reply.samples === undefined) throw new Error(`floor: ${reply.error ?? "no samples"} ${stderr}`);
  const s = reply.samples;
  const median = (pick: (x: FloorSample) => number): number => summarize(s.map(pick)).p50;
  const exports = [...new Set(s.flatMap((x) => Object.keys(x.byExportMs)))];
  return {
    n: s.length,
    flags: flags.join(" "),
    total: summarize(s.map((x) => x.totalMs)),
    newIsolateMs: median((x) => x.newIsolateMs),
    loadMs: median((x) => x.loadMs),
    callsMs: median((x) => x.callsMs),
    disposeMs: median((x) => x.disposeMs),
    byExportMs: Object.fromEntries(exports.map((e) => [e, median((x) => x.byExportMs[e] ?? 0)])),
    allOk: s.every((x) => x.ok),
  };
}

interface SequentialResult {
  n: number;
  client: Summary;
  /** feedback.durationMs: the service's own time for the grading (queue + worker + feedback). */
  server: Summary;
  gradingsPerS: number;
  errors: Record<string, number>;
  spawns: number;
  cpu?: CpuUse;
}

async function sequential(service: Service, n: number): Promise<SequentialResult> {
  await poolSettled(service);
  const spawnsBefore = service.events.spawned;
  const client: number[] = [];
  const server: number[] = [];
  const errors: Record<string, number> = {};
  const mark = await cpuMark();
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await submit(service.port, honestBody);
    client.push(r.ms);
    if (r.feedback !== undefined) server.push(r.feedback.durationMs);
    const outcome = honestOutcome(r);
    if (outcome !== "ok") countInto(errors, outcome);
  }
  const elapsed = (performance.now() - started) / 1000;
  return { n, client: summarize(client), server: summarize(server), gradingsPerS: n / elapsed, errors, spawns: service.events.spawned - spawnsBefore, cpu: cpuUse(mark, await cpuMark()) };
}

interface ClosedResult {
  clients: number;
  seconds: number;
  completed: number;
  /** 200 responses with 100/100, per second. */
  gradingsPerS: number;
  latency: Summary;
  errors: Record<string, number>;
  spawns: number;
  /** CPU of this process (service + load generator) per grading. */
  mainCpuMsPerGrading: number;
  cpu?: CpuUse;
}

async function closedLoop(service: Service, clients: number, seconds: number): Promise<ClosedResult> {
  await poolSettled(service);
  const spawnsBefore = service.events.spawned;
  const latency: number[] = [];
  const errors: Record<string, number> = {};
  let good = 0;
  const mark = await cpuMark();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end) {
      const r = await submit(service.port, honestBody);
      latency.push(r.ms);
      const outcome = honestOutcome(r);
      if (outcome === "ok") good++;
      else countInto(errors, outcome);
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    clients,
    seconds: elapsed,
    completed: latency.length,
    gradingsPerS: good / elapsed,
    latency: summarize(latency),
    errors,
    spawns: service.events.spawned - spawnsBefore,
    mainCpuMsPerGrading: (used.user + used.system) / 1000 / Math.max(1, latency.length),
    cpu: cpuUse(mark, await cpuMark()),
  };
}

interface OpenResult {
  rate: number;
  label: string;
  seconds: number;
  sent: number;
  completed: number;
  /** From the scheduled send time to the end of the response (no coordinated omission). */
  latency: Summary;
  /** Latency of the 200 responses only (a 503 is answered at once and would flatter the figures). */
  gradedLatency: Summary;
  /** How late the generator sent, against the schedule. */
  sendLagMaxMs: number;
  maxInFlight: number;
  errors: Record<string, number>;
  spawns: number;
  cpu?: CpuUse;
}

async function openLoop(service: Service, rate: number, label: string, seconds: number): Promise<OpenResult> {
  await poolSettled(service);
  const spawnsBefore = service.events.spawned;
  const count = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const latency: number[] = [];
  const graded: number[] = [];
  const errors: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  let maxInFlight = 0;
  let sendLagMaxMs = 0;
  const mark = await cpuMark();
  const t0 = performance.now() + 5;
  let i = 0;
  while (i < count) {
    const now = performance.now();
    while (i < count && t0 + i * interval <= now) {
      const scheduled = t0 + i * interval;
      sendLagMaxMs = Math.max(sendLagMaxMs, now - scheduled);
      i++;
      const p: Promise<void> = submit(service.port, honestBody).then((r) => {
        const ms = performance.now() - scheduled;
        latency.push(ms);
        if (r.status === 200) graded.push(ms);
        const outcome = honestOutcome(r);
        if (outcome !== "ok") countInto(errors, outcome);
        inFlight.delete(p);
      });
      inFlight.add(p);
      maxInFlight = Math.max(maxInFlight, inFlight.size);
    }
    if (i < count) await sleep(Math.max(0, t0 + i * interval - performance.now()));
  }
  await Promise.all(inFlight);
  return {
    rate,
    label,
    seconds: (count * interval) / 1000,
    sent: count,
    completed: latency.length,
    latency: summarize(latency),
    gradedLatency: summarize(graded),
    sendLagMaxMs,
    maxInFlight,
    errors,
    spawns: service.events.spawned - spawnsBefore,
    cpu: cpuUse(mark, await cpuMark()),
  };
}

interface HostileRun {
  name: string;
  expected: string;
  verdicts: Record<string, number>;
  latency: Summary;
  serverMs: Summary;
  /** From the response until the pool has all its workers started and idle again. */
  recoveryAfterResponse: Summary;
  /** From the submission until the pool is back to full strength. */
  recoveryFromSubmit: Summary;
  respawned: number;
  workerFate: Record<string, number>;
  /** An honest grading sent once the pool has recovered. */
  nextHonestMs: Summary;
  nextHonestErrors: Record<string, number>;
}

function diffCounts(after: Record<string, number>, before: Record<string, number>, prefix: string, into: Record<string, number>): void {
  for (const [key, value] of Object.entries(after)) {
    const d = value - (before[key] ?? 0);
    if (d > 0) into[`${prefix}${key}`] = (into[`${prefix}${key}`] ?? 0) + d;
  }
}

async function hostile(service: Service, c: Kind, repeats: number): Promise<HostileRun> {
  const latency: number[] = [];
  const serverMs: number[] = [];
  const afterResponse: number[] = [];
  const fromSubmit: number[] = [];
  const nextHonest: number[] = [];
  const nextHonestErrors: Record<string, number> = {};
  const verdicts: Record<string, number> = {};
  const fate: Record<string, number> = {};
  let respawned = 0;
  for (let i = 0; i < repeats; i++) {
    await poolSettled(service);
    const spawnsBefore = service.events.spawned;
    const retiredBefore = { ...service.events.retired };
    const diedBefore = { ...service.events.diedDuringGrading };
    const sent = performance.now();
    const r = await submit(service.port, submissionBody(c.source(i)), 120_000);
    const answered = performance.now();
    latency.push(r.ms);
    if (r.feedback !== undefined) serverMs.push(r.feedback.durationMs);
    countInto(verdicts, c.verdict(r));
    await sleep(0);
    await poolSettled(service);
    const settled = performance.now();
    afterResponse.push(settled - answered);
    fromSubmit.push(settled - sent);
    respawned += service.events.spawned - spawnsBefore;
    const fateBefore = Object.values(fate).reduce((a, b) => a + b, 0);
    diffCounts(service.events.retired, retiredBefore, "retired: ", fate);
    diffCounts(service.events.diedDuringGrading, diedBefore, "", fate);
    if (Object.values(fate).reduce((a, b) => a + b, 0) === fateBefore) countInto(fate, "kept");
    const honest = await submit(service.port, honestBody);
    nextHonest.push(honest.ms);
    const outcome = honestOutcome(honest);
    if (outcome !== "ok") countInto(nextHonestErrors, outcome);
  }
  return {
    name: c.name,
    expected: c.expected,
    verdicts,
    latency: summarize(latency),
    serverMs: summarize(serverMs),
    recoveryAfterResponse: summarize(afterResponse),
    recoveryFromSubmit: summarize(fromSubmit),
    respawned,
    workerFate: fate,
    nextHonestMs: summarize(nextHonest),
    nextHonestErrors,
  };
}

interface MemoryPoint {
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
}

function memoryPoint(): MemoryPoint {
  const m = process.memoryUsage();
  return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external) };
}

// ---- targets (perf-primitives.md §6b, design A, 2 cores, a 12-call workload) --------------------------------------------------

interface TargetCheck {
  what: string;
  measured: string;
  target: string;
  verdict: string;
}

function verdictAtMost(value: number, target: number, stretch?: number): string {
  if (!Number.isFinite(value)) return "not measured";
  if (stretch !== undefined && value <= stretch) return "meets (and the stretch)";
  return value <= target ? "meets" : `misses (${fixed(value / target)}× the target)`;
}

function verdictAtLeast(value: number, target: number, stretch?: number): string {
  if (!Number.isFinite(value)) return "not measured";
  if (stretch !== undefined && value >= stretch) return "meets (and the stretch)";
  return value >= target ? "meets" : `misses (${fixed((100 * value) / target, 0)} % of the target)`;
}

function targetChecks(seq: SequentialResult | undefined, closed: ClosedResult[], open: OpenResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  if (seq !== undefined) {
    checks.push({ what: "grading at 1 in flight, median", measured: `${fixed(seq.client.p50)} ms`, target: "≈ 22 ms", verdict: verdictAtMost(seq.client.p50, 22.1) });
  }
  for (const c of closed) {
    checks.push({ what: `sustained throughput, C=${c.clients}`, measured: `${fixed(c.gradingsPerS)} /s`, target: "≥ 50 /s (stretch 60)", verdict: verdictAtLeast(c.gradingsPerS, 50, 60) });
  }
  const c10 = closed.find((c) => c.clients === 10);
  if (c10 !== undefined) {
    checks.push({ what: "closed loop C=10, p99", measured: `${fixed(c10.latency.p99)} ms`, target: "≤ 400 ms (stretch 250)", verdict: verdictAtMost(c10.latency.p99, 400, 250) });
  }
  for (const o of open) {
    if (o.rate <= 25) {
      checks.push({ what: `open loop ${o.label}, p50`, measured: `${fixed(o.latency.p50)} ms`, target: "≤ 25 ms (at ≤ 25/s)", verdict: verdictAtMost(o.latency.p50, 25) });
      checks.push({ what: `open loop ${o.label}, p99`, measured: `${fixed(o.latency.p99)} ms`, target: "≤ 50 ms (at ≤ 25/s)", verdict: verdictAtMost(o.latency.p99, 50) });
    } else {
      checks.push({ what: `open loop ${o.label}, p99`, measured: `${fixed(o.latency.p99)} ms`, target: "≤ 100 ms at 40/s (stretch 50)", verdict: verdictAtMost(o.latency.p99, 100, 50) });
    }
  }
  return checks;
}

// ---- main -------------------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const memBefore = memoryPoint();
  progress("starting the service (every pack is self-tested at start)");
  const service = await startService();
  const sampler = new WorkerSampler();
  sampler.start(200);
  try {
    const config = configSummary(service.config, service);
    progress(`listening on 127.0.0.1:${service.port} after ${fixed(service.startupMs, 0)} ms; ${config.workload}`);
    const first = await submit(service.port, honestBody);
    if (honestOutcome(first) !== "ok") throw new Error(`the reference solution is not graded 100/100: ${honestOutcome(first)}`);

    let floorResult: FloorResult | undefined;
    if (opts.floor > 0) {
      progress(`floor: ${opts.floor} gradings in a fresh isolate each, in one --jitless process (no pool, IPC, HTTP)`);
      floorResult = await floor(service, opts.floor);
    }

    progress(`warm-up: ${opts.warmup} gradings`);
    for (let i = 0; i < opts.warmup; i++) await submit(service.port, honestBody);
    const memAfterWarmup = memoryPoint();

    let seq: SequentialResult | undefined;
    if (opts.sequential > 0) {
      progress(`sequential: ${opts.sequential} gradings, 1 in flight`);
      seq = await sequential(service, opts.sequential);
    }

    const closed: ClosedResult[] = [];
    for (const c of opts.concurrency) {
      progress(`closed loop: ${c} clients for ${opts.closedSeconds} s`);
      closed.push(await closedLoop(service, c, opts.closedSeconds));
    }

    const capacity = Math.max(0, ...closed.map((c) => c.gradingsPerS), seq?.gradingsPerS ?? 0);
    const open: OpenResult[] = [];
    for (const r of opts.rates) {
      let rate: number;
      let label: string;
      if (typeof r === "string") {
        if (capacity <= 0) continue;
        rate = Math.max(1, Math.round(((capacity * Number(r.slice(0, -1))) / 100) * 10) / 10);
        label = `${rate}/s (${r} of ${fixed(capacity)})`;
      } else {
        rate = r;
        label = `${rate}/s`;
      }
      progress(`open loop: ${label} for ${opts.openSeconds} s`);
      open.push(await openLoop(service, rate, label, opts.openSeconds));
    }

    const hostileRuns: HostileRun[] = [];
    const kinds = quick ? [loopInExport, loopAtTopLevel, memoryBomb] : [...hostileMix, ...(opts.fullBudgetLoop ? [loopInEveryCall] : [])];
    for (const c of kinds) {
      progress(`hostile: ${c.name} ×${c === loopInEveryCall ? 1 : opts.hostileRepeats}`);
      // The loop in every call costs the whole wall budget (10 s by default): once is enough.
      hostileRuns.push(await hostile(service, c, c === loopInEveryCall ? 1 : opts.hostileRepeats));
    }

    await poolSettled(service);
    await sampler.sample();
    const memEnd = memoryPoint();
    const gcDone = collectGarbage();
    const memEndGc = memoryPoint();
    const workersNow = await workersMemory();

    const result = {
      machine: machine(),
      config,
      options: opts,
      startupMs: service.startupMs,
      floor: floorResult,
      sequential: seq,
      closedLoop: closed,
      openLoop: open,
      hostile: hostileRuns,
      memory: {
        serviceProcess: { beforeStart: memBefore, afterWarmup: memAfterWarmup, end: memEnd, endAfterGc: gcDone ? memEndGc : undefined },
        workersAtEnd: workersNow.map((w) => ({ pid: w.pid, rssMb: kbToMb(w.rssKb), peakRssMb: kbToMb(w.hwmKb) })),
        workersMaxRssMbSeen: kbToMb(sampler.maxRssKb),
        workersMaxPeakRssMbSeen: kbToMb(sampler.maxHwmKb),
      },
      pool: {
        spawnedTotal: service.events.spawned,
        retired: service.events.retired,
        diedDuringGrading: service.events.diedDuringGrading,
        problemsLogged: service.events.problems,
        lastProblems: service.events.lastProblems,
        statsAtEnd: service.inner.sandbox.stats(),
      },
      targets: targetChecks(seq, closed, open),
      totalSeconds: (performance.now() - benchStarted) / 1000,
    };
    process.stdout.write(asJson ? `${JSON.stringify(result, null, 2)}\n` : `${render(result)}\n`);
  } finally {
    sampler.stop();
    await service.close();
    closeClient();
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function render(r: any): string {
  const out: string[] = [];
  const m = r.machine as Record<string, string | number>;
  const cfg = r.config as Record<string, string | number>;
  out.push("gradebox bench: HTTP on 127.0.0.1, the service and the load generator in one process");
  out.push(`machine: ${m.cpus} cpus (${m.cpuModel}), ${m.memoryGB} GB, ${m.os}; node ${m.node} (V8 ${m.v8}), isolated-vm ${m.isolatedVm}, fastify ${m.fastify}; flags: ${m.execArgv || "none"}`);
  out.push(`config: ${cfg.workers} workers, recycled after ${cfg.workerMaxGradings} gradings, RSS cap ${cfg.workerRssMb} MB, queue ${cfg.queueLength}; limits: call ${cfg.callTimeoutMs} ms, eval ${cfg.evalTimeoutMs} ms, wall ${cfg.submissionWallMs} ms, isolate ${cfg.isolateMemoryMb} MB, kill grace ${cfg.killGraceMs} ms; LOG_LEVEL ${cfg.logLevel}`);
  out.push(`workload: ${cfg.workload}`);
  out.push(`startup (register + pack self-test + listen): ${fixed(r.startupMs, 0)} ms`);
  out.push("cpu column: cores busy in this process tree (service + workers + load generator) / cores busy in other processes (noise)");
  out.push("");

  if (r.floor !== undefined) {
    const f = r.floor as FloorResult;
    const heavy = Object.entries(f.byExportMs).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fixed(v)}`).join(", ");
    out.push(`Floor: the same job in a fresh isolate per grading, one process (${f.flags}), no pool/IPC/HTTP`);
    out.push(table(["n", "p50 ms", "p90 ms", "p99 ms", "max ms", "new isolate", "load", "calls", "dispose", "all 100/100"], [
      [f.n, f.total.p50, f.total.p90, f.total.p99, f.total.max, f.newIsolateMs, f.loadMs, f.callsMs, f.disposeMs, f.allOk ? "yes" : "NO"],
    ]));
    out.push(`  calls by export (median ms per grading): ${heavy}`);
    out.push("");
  }

  if (r.sequential !== undefined) {
    const s = r.sequential as SequentialResult;
    out.push(`Single submission, 1 in flight (after ${r.options.warmup} warm-up gradings)`);
    out.push(table(["measure", "n", "p50 ms", "p90 ms", "p99 ms", "max ms", "gradings/s", "errors", "spawns", "cpu"], [
      ["HTTP round trip", s.client.n, s.client.p50, s.client.p90, s.client.p99, s.client.max, s.gradingsPerS, describeErrors(s.errors), s.spawns, describeCpu(s.cpu)],
      ["service (feedback.durationMs)", s.server.n, s.server.p50, s.server.p90, s.server.p99, s.server.max, "", "", "", ""],
    ]));
    out.push("");
  }

  out.push("Closed loop (C clients; each sends its next submission when the last is answered)");
  out.push(table(["clients", "s", "done", "gradings/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "spawns", "main CPU ms/grading", "cpu"],
    (r.closedLoop as ClosedResult[]).map((c) => [`C=${c.clients}`, c.seconds, c.completed, c.gradingsPerS, c.latency.p50, c.latency.p90, c.latency.p99, c.latency.max, describeErrors(c.errors), c.spawns, c.mainCpuMsPerGrading, describeCpu(c.cpu)])));
  out.push("");

  out.push("Open loop (uniform arrivals; latency from the scheduled send time, all responses / 200s only)");
  out.push(table(["offered", "s", "sent", "p50 ms", "p90 ms", "p99 ms", "max ms", "p50/p99 of 200s", "max in flight", "send lag ms", "errors", "spawns", "cpu"],
    (r.openLoop as OpenResult[]).map((o) => [o.label, o.seconds, o.sent, o.latency.p50, o.latency.p90, o.latency.p99, o.latency.max, `${fixed(o.gradedLatency.p50)} / ${fixed(o.gradedLatency.p99)}`, o.maxInFlight, o.sendLagMaxMs, describeErrors(o.errors), o.spawns, describeCpu(o.cpu)])));
  out.push("");

  out.push(`Hostile submissions (each sent alone on an idle pool, ×${r.options.hostileRepeats}, the loop in every call once; median [max])`);
  out.push(table(["submission", "latency ms", "service ms", "pool full again ms after the answer", "respawns", "next honest ms", "worker", "verdict"],
    (r.hostile as HostileRun[]).map((h) => {
      const verdicts = Object.entries(h.verdicts);
      const asExpected = verdicts.length === 1 && verdicts[0]?.[0] === h.expected;
      return [
        h.name,
        `${fixed(h.latency.p50)} [${fixed(h.latency.max)}]`,
        fixed(h.serverMs.p50),
        `${fixed(h.recoveryAfterResponse.p50)} [${fixed(h.recoveryAfterResponse.max)}]`,
        h.respawned,
        `${fixed(h.nextHonestMs.p50)}${Object.keys(h.nextHonestErrors).length === 0 ? "" : ` (${describeErrors(h.nextHonestErrors)})`}`,
        Object.entries(h.workerFate).map(([k, v]) => `${k} ×${v}`).join(", "),
        `${verdicts.map(([k, v]) => `${k} ×${v}`).join(" | ")}${asExpected ? "" : `  (EXPECTED ${h.expected})`}`,
      ];
    })));
  out.push("");

  const mem = r.memory;
  const sp = mem.serviceProcess;
  out.push("Memory (this process holds the service and the load generator)");
  out.push(table(["service process", "RSS MB", "heapUsed MB", "external MB"], [
    ["before start", sp.beforeStart.rssMb, sp.beforeStart.heapUsedMb, sp.beforeStart.externalMb],
    ["after warm-up", sp.afterWarmup.rssMb, sp.afterWarmup.heapUsedMb, sp.afterWarmup.externalMb],
    ["end", sp.end.rssMb, sp.end.heapUsedMb, sp.end.externalMb],
    ...(sp.endAfterGc !== undefined ? [["end, after a full GC", sp.endAfterGc.rssMb, sp.endAfterGc.heapUsedMb, sp.endAfterGc.externalMb]] : []),
  ]));
  const workers = mem.workersAtEnd as Array<{ pid: number; rssMb: number; peakRssMb: number }>;
  out.push(`workers at the end: ${workers.map((w) => `pid ${w.pid} RSS ${w.rssMb} MB (peak ${w.peakRssMb} MB)`).join("; ") || "unreadable (/proc)"}`);
  out.push(`workers over the run (sampled every 200 ms): largest RSS ${mem.workersMaxRssMbSeen} MB, largest peak (VmHWM) ${mem.workersMaxPeakRssMbSeen} MB`);
  const pool = r.pool;
  out.push(`pool: ${pool.spawnedTotal} workers started in all; retired ${JSON.stringify(pool.retired)}; died during a grading ${JSON.stringify(pool.diedDuringGrading)}; other warnings/errors logged ${JSON.stringify(pool.problemsLogged)}`);
  out.push("");

  out.push("Against perf-primitives.md §6b (design A). Those targets were set for a 12-call workload of ≈ 21 ms in the isolate;");
  if (r.floor !== undefined) {
    const f = r.floor as FloorResult;
    const workersN = Number(cfg.workers);
    out.push(`this pack's job costs ${fixed(f.total.p50)} ms in the isolate alone (floor above), so ${workersN} workers cannot exceed ≈ ${fixed((workersN * 1000) / f.total.p50)} gradings/s here.`);
  }
  out.push(table(["", "measured", "target", "verdict"], (r.targets as TargetCheck[]).map((t) => [t.what, t.measured, t.target, t.verdict])));
  out.push("");
  out.push(`total ${fixed(r.totalSeconds)} s`);
  return out.join("\n");
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
