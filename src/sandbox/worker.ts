import { IsolateSession, sameSetup, sessionSetup, type SessionSetup } from "./isolate-session.js";
import type { GradeJob, JobPhases, WorkerMessage } from "./protocol.js";
import { runCallChecks } from "../grading/call-checks.js";
import type { ProbeRequest } from "./probe.js";

/**
 * Entry point of a grading worker process (forked by pool.ts with --no-node-snapshot, and --jitless or --no-expose-wasm).
 * It grades one job at a time in a fresh isolate and streams each result as soon as it has it, so
 * that if student code takes the whole process down, the service still knows what finished.
 * The service never trusts this process to stop on time: it enforces its own deadline and kills it.
 *
 * Off the job's critical path (measured in bench/: see the README's Performance section):
 * - the isolate is disposed after `done` is sent, not before;
 * - the next job's isolate, context and prelude are made while the worker is idle. That isolate is
 *   fresh (no submission ever ran in it) and is used only if the next job asks for the same setup.
 */

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send?.(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

interface Spare {
  setup: SessionSetup;
  session: Promise<IsolateSession>;
}

let spare: Spare | undefined;
/** How long disposing the previous job's isolate took (it happens after that job's reply). */
let lastDisposeMs: number | undefined;

async function sessionFor(job: GradeJob): Promise<{ session: IsolateSession; preparedAhead: boolean }> {
  const setup = sessionSetup(job.limits, job.resultMaxDepth, job.keepGlobals);
  const ready = spare;
  spare = undefined;
  if (ready !== undefined) {
    const session = await ready.session;
    if (sameSetup(ready.setup, setup)) return { session, preparedAhead: true };
    session.dispose();
  }
  return { session: await IsolateSession.prepare(setup, job.limits, job.killGraceMs), preparedAhead: false };
}

/**
 * A call stopped for overrunning its CPU budget takes its isolate with it (isolated-vm can stop running code
 * only by disposing of the isolate). The job's remaining calls then run in a fresh isolate with the submission
 * loaded again (its top-level state starts anew), within the same deadline and CPU budget: one slow case must
 * not cost the others. Its load's output was reported once already and is dropped.
 */
async function takeOver(job: GradeJob, lost: IsolateSession): Promise<{ session?: IsolateSession; tainted: boolean }> {
  const next = await IsolateSession.prepare(sessionSetup(job.limits, job.resultMaxDepth, job.keepGlobals), job.limits, job.killGraceMs);
  next.begin(job.limits, { ...(job.budget !== undefined ? { budget: job.budget } : {}), deadline: lost.jobDeadline, cpuUsedMs: lost.cpuUsedMs() });
  const loaded = await next.load({ source: job.source, helpers: job.helpers });
  await next.takeOutput();
  if (loaded.kind === "loaded") return { session: next, tainted: false };
  next.dispose();
  return { tainted: next.tainted };
}

async function runJob(job: GradeJob, first: IsolateSession): Promise<{ testsMs: number; session: IsolateSession; tainted: boolean }> {
  let session = first;
  let tainted = false;
  // A submission that cannot be loaded again (past its budget or deadline) is not tried again for each call.
  let replaceable = true;
  session.begin(job.limits, job.budget !== undefined ? { budget: job.budget } : {});
  const loaded = await session.load({ source: job.source, helpers: job.helpers });
  const loadCpuMs = session.lastCpuMs;
  const loadOutput = await session.takeOutput();
  await send({ type: "loaded", jobId: job.jobId, outcome: loaded, output: loadOutput.text, dropped: loadOutput.dropped });
  const testsStarted = performance.now();
  session.timings.loadCpuMs = loadCpuMs;
  if (loaded.kind !== "loaded") return { testsMs: 0, session, tainted: session.tainted };
  const stopped = new Set<string>();
  for (const [index, call] of job.calls.entries()) {
    if (call.stopGroup !== undefined && stopped.has(call.stopGroup)) {
      await send({ type: "call", jobId: job.jobId, index, outcome: { kind: "not-run", reason: "skipped" }, output: "", dropped: 0, ms: 0 });
      continue;
    }
    if (session.cpuStopped && !session.tainted && replaceable) {
      // The previous call overran its CPU budget, and its isolate stopped at once.
      const next = await takeOver(job, session);
      session.dispose();
      tainted ||= next.tainted;
      if (next.session !== undefined) session = next.session;
      else replaceable = false;
    }
    const started = performance.now();
    const outcome = await session.call(call.exportName, call.argsJson, call.checks?.argsAfter !== undefined, call.budgetMs);
    const ms = performance.now() - started;
    const cpuMs = session.lastCpuMs;
    tainted ||= session.tainted;
    if (call.stopGroup !== undefined && (outcome.kind === "timeout" || outcome.kind === "never-settled")) stopped.add(call.stopGroup);
    // Output is always taken, so that a hidden case's output cannot surface in a later public one.
    const output = await session.takeOutput();
    // Checked here, on the whole text and the call's own copies: a hidden call's text and arguments stop here.
    const checks = call.checks === undefined ? undefined : runCallChecks(call.checks, call.argsJson, outcome, output.text, output.dropped);
    if (!call.keepOutput && outcome.kind === "value" && outcome.args !== undefined) delete outcome.args;
    await send({
      type: "call",
      jobId: job.jobId,
      index,
      outcome,
      output: call.keepOutput ? output.text : "",
      dropped: call.keepOutput ? output.dropped : 0,
      ms,
      cpuMs,
      ...(checks !== undefined ? { checks } : {}),
    });
  }
  return { testsMs: performance.now() - testsStarted, session, tainted: tainted || session.tainted };
}

let busy = false;

async function handle(job: GradeJob): Promise<void> {
  const received = performance.now();
  const prepared = await sessionFor(job);
  const { preparedAhead } = prepared;
  const waitMs = performance.now() - received;
  let ran: Awaited<ReturnType<typeof runJob>>;
  try {
    ran = await runJob(job, prepared.session);
  } catch (error) {
    prepared.session.dispose();
    throw error;
  }
  const { session, testsMs } = ran;
  const first = prepared.session;
  const phases: JobPhases = {
    isolateMs: first.timings.isolateMs,
    contextMs: first.timings.contextMs,
    loadMs: first.timings.loadMs,
    ...(first.timings.loadCpuMs !== undefined ? { loadCpuMs: first.timings.loadCpuMs } : {}),
    testsMs,
    preparedAhead,
    setupWaitMs: waitMs,
    ...(lastDisposeMs !== undefined ? { previousDisposeMs: lastDisposeMs } : {}),
  };
  await send({ type: "done", jobId: job.jobId, tainted: ran.tainted, phases });
  // A disposed isolate's thread may still be spinning: this process is not reused.
  if (ran.tainted) process.exit(0);
  const disposeStarted = performance.now();
  session.dispose();
  lastDisposeMs = performance.now() - disposeStarted;
  busy = false;
  if (job.last !== true && spare === undefined) {
    const setup = sessionSetup(job.limits, job.resultMaxDepth, job.keepGlobals);
    const session = IsolateSession.prepare(setup, job.limits, job.killGraceMs);
    // A failure surfaces when the next job awaits it; until then it is not an unhandled rejection.
    session.catch(() => undefined);
    spare = { setup, session };
  }
}

// Test-only (see probe.ts): the pool never starts a worker with --probes.
if (process.argv.includes("--probes")) {
  process.on("message", (message: { type?: string }) => {
    if (message?.type !== "probe") return;
    void import("./probe.js")
      .then(({ probe }) => probe(message as ProbeRequest))
      .then((attempts) => process.send?.({ type: "probe-result", attempts }));
  });
}

process.on("message", (message: GradeJob) => {
  if (message?.type !== "grade" || busy) return;
  busy = true;
  handle(message).catch((error: unknown) => {
    process.stderr.write(`gradebox worker: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(70);
  });
});

process.on("disconnect", () => process.exit(0));

void send({ type: "ready", pid: process.pid });
