import t from "tap";
import type { Limits } from "../../src/config.js";
import { completeLostJob, type LostJob } from "../../src/sandbox/lost-job.js";

const limits: Limits = { callTimeoutMs: 1000, evalTimeoutMs: 800, submissionWallMs: 8000, isolateMemoryMb: 64, outputKiB: 64, resultKiB: 64 };

function job(overrides: Partial<LostJob>): LostJob {
  return {
    spec: { limits, calls: [{}, {}, {}] },
    report: { load: { kind: "loaded" }, calls: [{ outcome: { kind: "value", value: 1 }, output: "" }] },
    loaded: true,
    callsDone: 1,
    ...overrides,
  };
}

t.test("a worker killed at the deadline during a call: that call timed out, the later ones ran out of budget", async (t) => {
  const lost = job({ killedFor: "deadline" });
  completeLostJob(lost, "killed: missed the 8000 ms deadline", { memoryFault: false, rssMb: 160 });
  t.same(lost.report.calls.map((c) => c.outcome), [
    { kind: "value", value: 1 },
    { kind: "timeout", limitMs: limits.submissionWallMs },
    { kind: "not-run", reason: "budget" },
  ]);
  t.equal(lost.report.workerDeath, "killed: missed the 8000 ms deadline");
});

t.test("a worker killed for its resident memory names the RSS cap; one that died out of memory names the heap limit", async (t) => {
  const killed = job({ killedFor: "rss" });
  completeLostJob(killed, "killed: resident memory over 160 MB", { memoryFault: false, rssMb: 160 });
  t.same(killed.report.calls[1]?.outcome, { kind: "memory", limitMb: 160 });
  t.same(killed.report.calls[2]?.outcome, { kind: "not-run", reason: "sandbox-lost" });
  const died = job({});
  completeLostJob(died, "died: SIGABRT (out of memory)", { memoryFault: true, rssMb: 160 });
  t.same(died.report.calls[1]?.outcome, { kind: "memory", limitMb: limits.isolateMemoryMb });
});

t.test("a worker lost while loading the submission blames the load", async (t) => {
  const timedOut = job({ loaded: false, callsDone: 0, killedFor: "deadline", report: { load: { kind: "crashed", detail: "" }, calls: [] } });
  completeLostJob(timedOut, "killed", { memoryFault: false, rssMb: 160 });
  t.same(timedOut.report.load, { kind: "timeout", limitMs: limits.evalTimeoutMs });
  t.same(timedOut.report.calls, [], "no call ran");
  const crashed = job({ loaded: false, callsDone: 0, report: { load: { kind: "crashed", detail: "" }, calls: [] } });
  completeLostJob(crashed, "died: SIGSEGV (crashed)", { memoryFault: false, rssMb: 160 });
  t.same(crashed.report.load, { kind: "crashed", detail: "died: SIGSEGV (crashed)" });
});
