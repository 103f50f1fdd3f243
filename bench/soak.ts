/**
 * `npm run soak`: grades many submissions through the real service (started in this process on
 * 127.0.0.1:0, as bench.ts does) and checks that nothing drifts: every honest submission scores
 * 100, every hostile one gets its verdict, and the service's memory stays flat.
 *
 *   --count N          submissions (default 2000)
 *   --concurrency N    submissions in flight (default 8)
 *   --hostile-every N  one submission in N is hostile (default 10; 0 means none)
 *   --time-limit S     stop sending after S seconds even if unfinished (default 600)
 *   --report-every N   memory sample every N graded submissions (default 250)
 *   --json             print one JSON document at the end (progress goes to stderr)
 *   --strict           also exit non-zero when a hostile submission did not get its verdict
 * Exit code: 1 when an honest submission was not answered 100/100 (or, with --strict, when a hostile
 * one did not get its verdict); else 3 when the time limit stopped the run before --count; 2 when the
 * soak itself broke or hung past the time limit + 120 s; 0 otherwise.
 * Service settings come from the environment, as for bench.ts.
 */
import { honest, hostileMix, type Kind } from "./hostile.js";
import {
  closeClient, collectGarbage, configSummary, countInto, describeErrors, fixed, kbToMb, machine, mb,
  numberArg, parseArgs, startService, submissionBody, submit, table, workersMemory, type Service,
} from "./lib.js";

const args = parseArgs(process.argv.slice(2));
const opts = {
  count: Math.floor(numberArg(args, "count", 2000)),
  concurrency: Math.max(1, Math.floor(numberArg(args, "concurrency", 8))),
  hostileEvery: Math.floor(numberArg(args, "hostile-every", 10)),
  timeLimitS: numberArg(args, "time-limit", 600),
  reportEvery: Math.max(1, Math.floor(numberArg(args, "report-every", 250))),
  strict: args.has("strict"),
};
const asJson = args.has("json");

const started = performance.now();
const elapsedS = (): number => (performance.now() - started) / 1000;
const progress = (text: string): void => {
  process.stderr.write(`[soak ${elapsedS().toFixed(1)} s] ${text}\n`);
};

function kindOf(i: number): Kind {
  if (opts.hostileEvery > 0 && i % opts.hostileEvery === opts.hostileEvery - 1) {
    return hostileMix[Math.floor(i / opts.hostileEvery) % hostileMix.length] as Kind;
  }
  return honest;
}

// ---- memory samples --------------------------------------------------------------------------------------------------

interface Sample {
  label: string;
  graded: number;
  seconds: number;
  rssMb: number;
  heapUsedMb: number;
  /** heapUsed after a full GC: what the service really keeps. */
  heapAfterGcMb: number;
  externalMb: number;
  workersSpawned: number;
  workersLive: number;
  workersRssMb: number;
  activeHandles: number;
}

async function sample(service: Service, graded: number, label = String(graded)): Promise<Sample> {
  const m = process.memoryUsage();
  collectGarbage();
  const after = process.memoryUsage();
  const workers = await workersMemory();
  return {
    label,
    graded,
    seconds: elapsedS(),
    rssMb: mb(m.rss),
    heapUsedMb: mb(m.heapUsed),
    heapAfterGcMb: mb(after.heapUsed),
    externalMb: mb(after.external),
    workersSpawned: service.events.spawned,
    workersLive: workers.length,
    workersRssMb: kbToMb(workers.reduce((a, w) => a + w.rssKb, 0)),
    activeHandles: process.getActiveResourcesInfo().length,
  };
}

/** Least-squares slope of y over x, per 1000 x. */
function slopePer1000(points: Array<[number, number]>): number {
  if (points.length < 2) return NaN;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const sxx = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  const sxy = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  return sxx === 0 ? NaN : (1000 * sxy) / sxx;
}

// ---- main ------------------------------------------------------------------------------------------------------------

interface KindTally {
  sent: number;
  asExpected: number;
  mismatches: Record<string, number>;
  latencyMs: number[];
}

async function main(): Promise<number> {
  progress(`starting the service; ${opts.count} submissions, ${opts.concurrency} in flight, ${opts.hostileEvery > 0 ? `1 in ${opts.hostileEvery} hostile` : "none hostile"}, time limit ${opts.timeLimitS} s`);
  const service = await startService();
  const deadline = performance.now() + opts.timeLimitS * 1000;
  // A last resort, should a request hang past every limit of the service and of the client.
  const hardStop = setTimeout(() => {
    process.stderr.write("soak: did not finish within the time limit + 120 s; exiting\n");
    process.exit(2);
  }, (opts.timeLimitS + 120) * 1000);
  hardStop.unref();

  const tallies = new Map<string, KindTally>();
  for (const k of [honest, ...hostileMix]) tallies.set(k.name, { sent: 0, asExpected: 0, mismatches: {}, latencyMs: [] });
  const samples: Sample[] = [await sample(service, 0, "start")];
  progress(`start: RSS ${samples[0]?.rssMb} MB, heap after GC ${samples[0]?.heapAfterGcMb} MB, ${service.events.spawned} workers started`);
  let next = 0;
  let graded = 0;
  let stoppedByTime = false;
  const examples: Array<{ i: number; kind: string; got: string }> = [];
  const samplingDone: Array<Promise<void>> = [];

  const bodies = (i: number): { kind: Kind; body: string } => {
    const kind = kindOf(i);
    return { kind, body: submissionBody(kind.source(i)) };
  };

  try {
    await Promise.all(Array.from({ length: opts.concurrency }, async () => {
      while (next < opts.count) {
        if (performance.now() > deadline) {
          stoppedByTime = true;
          return;
        }
        const i = next++;
        const { kind, body } = bodies(i);
        const tally = tallies.get(kind.name) as KindTally;
        tally.sent++;
        const r = await submit(service.port, body, 90_000);
        tally.latencyMs.push(r.ms);
        const verdict = kind.verdict(r);
        if (verdict === kind.expected) {
          tally.asExpected++;
        } else {
          countInto(tally.mismatches, verdict);
          if (examples.length < 20) examples.push({ i, kind: kind.name, got: verdict });
        }
        graded++;
        if (graded % opts.reportEvery === 0) {
          const at = graded;
          samplingDone.push(sample(service, at).then((s) => {
            samples.push(s);
            progress(`${at} graded: RSS ${s.rssMb} MB, heapUsed ${s.heapUsedMb} MB (${s.heapAfterGcMb} after GC), ${s.workersSpawned} workers started, honest wrong so far ${Object.values(tallies.get(honest.name)?.mismatches ?? {}).reduce((a, b) => a + b, 0)}`);
          }));
        }
      }
    }));
    await Promise.all(samplingDone);
    samples.sort((a, b) => a.graded - b.graded);
    const end = await sample(service, graded, "end");
    samples.push(end);
    const live = service.inner.sandbox.stats();

    const honestTally = tallies.get(honest.name) as KindTally;
    const honestWrong = honestTally.sent - honestTally.asExpected;
    const hostileWrong = hostileMix.reduce((a, k) => a + ((tallies.get(k.name)?.sent ?? 0) - (tallies.get(k.name)?.asExpected ?? 0)), 0);
    const steady = samples.filter((s) => s.label !== "start");
    const result = {
      machine: machine(),
      config: configSummary(service.config, service),
      options: opts,
      seconds: elapsedS(),
      submitted: next,
      graded,
      stoppedByTime,
      honestWrong,
      hostileWrong,
      kinds: [honest, ...hostileMix].map((k) => {
        const t = tallies.get(k.name) as KindTally;
        const sorted = [...t.latencyMs].sort((a, b) => a - b);
        return { name: k.name, expected: k.expected, sent: t.sent, asExpected: t.asExpected, mismatches: t.mismatches, latencyP50Ms: sorted[Math.floor(sorted.length / 2)] ?? NaN, latencyMaxMs: sorted[sorted.length - 1] ?? NaN };
      }),
      examples,
      samples,
      trend: {
        rssMbPer1000: slopePer1000(steady.map((s) => [s.graded, s.rssMb])),
        heapAfterGcMbPer1000: slopePer1000(steady.map((s) => [s.graded, s.heapAfterGcMb])),
      },
      pool: {
        spawnedTotal: service.events.spawned,
        retired: service.events.retired,
        diedDuringGrading: service.events.diedDuringGrading,
        problemsLogged: service.events.problems,
        lastProblems: service.events.lastProblems,
        statsAtEnd: live,
        childProcessesAtEnd: end.workersLive,
      },
    };
    process.stdout.write(asJson ? `${JSON.stringify(result, null, 2)}\n` : `${render(result)}\n`);
    if (honestWrong > 0) return 1;
    if (opts.strict && hostileWrong > 0) return 1;
    return stoppedByTime ? 3 : 0;
  } finally {
    clearTimeout(hardStop);
    await service.close();
    closeClient();
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function render(r: any): string {
  const out: string[] = [];
  const m = r.machine as Record<string, string | number>;
  const cfg = r.config as Record<string, string | number>;
  out.push("gradebox soak: HTTP on 127.0.0.1, the service and the load generator in one process");
  out.push(`machine: ${m.cpus} cpus (${m.cpuModel}), ${m.memoryGB} GB; node ${m.node}, isolated-vm ${m.isolatedVm}`);
  out.push(`config: ${cfg.workers} workers, recycled after ${cfg.workerMaxGradings} gradings, queue ${cfg.queueLength}; limits: call ${cfg.callTimeoutMs} ms, eval ${cfg.evalTimeoutMs} ms, wall ${cfg.submissionWallMs} ms, isolate ${cfg.isolateMemoryMb} MB`);
  out.push(`run: ${r.graded} of ${r.options.count} submissions graded in ${fixed(r.seconds)} s, ${r.options.concurrency} in flight${r.stoppedByTime ? `; STOPPED by the ${r.options.timeLimitS} s time limit` : ""}`);
  out.push("");
  out.push("Verdicts");
  out.push(table(["submission", "sent", "as expected", "mismatches", "p50 ms", "max ms", "expected"],
    (r.kinds as Array<{ name: string; expected: string; sent: number; asExpected: number; mismatches: Record<string, number>; latencyP50Ms: number; latencyMaxMs: number }>)
      .map((k) => [k.name, k.sent, k.asExpected, describeErrors(k.mismatches), k.latencyP50Ms, k.latencyMaxMs, k.expected])));
  if (r.examples.length > 0) {
    out.push("first mismatches:");
    for (const e of r.examples as Array<{ i: number; kind: string; got: string }>) out.push(`  #${e.i} ${e.kind}: ${e.got}`);
  }
  out.push("");
  out.push("Service process memory (RSS and heapUsed as sampled; heap after a forced full GC) and workers");
  out.push(table(["sample", "graded", "s", "RSS MB", "heapUsed MB", "heap after GC MB", "external MB", "workers started", "live workers", "workers RSS MB", "active handles"],
    (r.samples as Sample[]).map((s) => [s.label, s.graded, fixed(s.seconds), s.rssMb, s.heapUsedMb, s.heapAfterGcMb, s.externalMb, s.workersSpawned, s.workersLive, s.workersRssMb, s.activeHandles])));
  out.push((r.samples as Sample[]).length >= 4
    ? `trend (least squares over every sample but the start): RSS ${fixed(r.trend.rssMbPer1000, 2)} MB per 1000 submissions, heap after GC ${fixed(r.trend.heapAfterGcMbPer1000, 2)} MB per 1000`
    : "trend: too few samples for one (lower --report-every or raise --count)");
  const pool = r.pool;
  out.push(`pool: ${pool.spawnedTotal} workers started in all; retired ${JSON.stringify(pool.retired)}; died during a grading ${JSON.stringify(pool.diedDuringGrading)}; other warnings/errors logged ${JSON.stringify(pool.problemsLogged)}`);
  out.push(`at the end: pool ${JSON.stringify(pool.statsAtEnd)}, ${pool.childProcessesAtEnd} child processes`);
  out.push("");
  out.push(`honest submissions graded wrong: ${r.honestWrong}; hostile submissions without their verdict: ${r.hostileWrong}`);
  return out.join("\n");
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(2);
  },
);
