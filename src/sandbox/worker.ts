import { IsolateSession } from "./isolate-session.js";
import type { GradeJob, WorkerMessage } from "./protocol.js";

/**
 * Entry point of a grading worker process (forked by pool.ts with --no-node-snapshot --jitless).
 * It grades one job at a time in a fresh isolate and streams each result as soon as it has it, so
 * that if student code takes the whole process down, the service still knows what finished.
 * The service never trusts this process to stop on time: it enforces its own deadline and kills it.
 */

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send?.(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

async function runJob(job: GradeJob): Promise<boolean> {
  const session = new IsolateSession(job.limits, job.killGraceMs, job.resultMaxDepth);
  try {
    const loaded = await session.load({ source: job.source, helpers: job.helpers, keepGlobals: job.keepGlobals });
    const loadOutput = await session.takeOutput();
    await send({ type: "loaded", jobId: job.jobId, outcome: loaded, output: loadOutput.text, dropped: loadOutput.dropped });
    if (loaded.kind !== "loaded") return session.tainted;
    for (const [index, call] of job.calls.entries()) {
      const started = performance.now();
      const outcome = await session.call(call.exportName, call.argsJson);
      const ms = performance.now() - started;
      // Output is always taken, so that a hidden case's output cannot surface in a later public one.
      const output = await session.takeOutput();
      await send({
        type: "call",
        jobId: job.jobId,
        index,
        outcome,
        output: call.keepOutput ? output.text : "",
        dropped: call.keepOutput ? output.dropped : 0,
        ms,
      });
    }
    return session.tainted;
  } finally {
    session.dispose();
  }
}

let busy = false;

process.on("message", (message: GradeJob) => {
  if (message?.type !== "grade" || busy) return;
  busy = true;
  runJob(message).then(
    async (tainted) => {
      await send({ type: "done", jobId: message.jobId, tainted });
      busy = false;
      // A disposed isolate's thread may still be spinning: this process is not reused.
      if (tainted) process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`gradebox worker: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(70);
    },
  );
});

process.on("disconnect", () => process.exit(0));

void send({ type: "ready", pid: process.pid });
