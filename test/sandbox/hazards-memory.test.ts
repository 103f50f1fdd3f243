import t from "tap";
import { PassThrough } from "node:stream";
import { buildApp, fastLimits } from "../helpers/app.js";
import { byId, honestStillScores100, hostile, score, submit, waitForIdleWorkers } from "./support.js";

// Issue 4, memory: heap bombs stopped by the isolate's limit; one-liners that make V8 abort the whole worker
// process, or grow it past WORKER_RSS_MB, instead of honouring that limit; ArrayBuffer bombs; WebAssembly
// (absent: workers run --jitless or --no-expose-wasm); SharedArrayBuffer and Atomics (removed by the prelude); and a typed array
// over a shrunk resizable ArrayBuffer (copying one aborts isolated-vm 5.0.4, and the harness never copies).
//
// Limits for this file: a small isolate heap (16 MB) and RSS cap (160 MB) so that every bomb goes off in well
// under a second, and a generous call time (5 s) so that a bomb that is slow to go off on a busy machine is still
// answered "memory", not "timeout". No test here waits for a time limit.
const env = {
  ...fastLimits,
  ISOLATE_MEMORY_MB: "16",
  WORKER_RSS_MB: "160",
  CALL_TIMEOUT_MS: "5000",
  EVAL_TIMEOUT_MS: "5000",
  SUBMISSION_WALL_MS: "15000",
};

// The service's log says why a worker stopped during a grading ("workerDeath" on the "graded" line).
const log: Array<{ msg?: string; submission?: string; workerDeath?: string }> = [];
const logStream = new PassThrough();
logStream.on("data", (chunk: Buffer) => {
  for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") log.push(JSON.parse(line) as (typeof log)[number]);
});

const app = await buildApp(env, { logStream });
t.teardown(() => app.close());

function workerDeath(submission: string): string | undefined {
  return log.find((entry) => entry.msg === "graded" && entry.submission === submission)?.workerDeath;
}

t.test("a graded function that allocates without end hits the isolate's heap limit: a memory verdict, and the rest is not run", async (t) => {
  const { feedback } = await submit(t, app, hostile("memory-grows-until-the-limit.mjs"), {}, env);
  t.equal(byId(feedback, "forward-notebook")?.status, "memory");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation ran out of memory (limit 16 MB).");
  t.equal(byId(feedback, "backward-notebook")?.status, "error");
  t.equal(byId(feedback, "backward-notebook")?.message, "Not run: an earlier test exhausted the sandbox (time or memory).");
  await honestStillScores100(t, app, env);
});

t.test("top-level code that allocates without end is rejected with module_memory", async (t) => {
  const { feedback } = await submit(t, app, hostile("memory-bomb-at-top-level.mjs"), {}, env);
  t.equal(feedback.status, "rejected");
  t.equal(feedback.reason?.code, "module_memory");
  t.equal(feedback.reason?.message, "The module's top-level code ran out of memory (limit 16 MB).");
  await honestStillScores100(t, app, env);
});

// These one-liners do not stop at the isolate's limit: V8 either aborts the worker process (SIGABRT, "Fatal
// JavaScript invalid size error" or "heap out of memory" on stderr) or keeps growing until the RSS cap kills it.
const processBombs: Array<[string, string]> = [
  ["new Array(1e8).fill(0)", "memory-array-fill-1e8.mjs"],
  ["Array.from({ length: 5e7 })", "memory-array-from-5e7.mjs"],
  ["an object with millions of keys", "memory-millions-of-keys.mjs"],
];
for (const [what, file] of processBombs) {
  t.test(`${what}, which takes the worker process down, is a memory verdict and the worker is replaced`, async (t) => {
    const { feedback } = await submit(t, app, hostile(file), {}, env);
    t.equal(feedback.status, "graded");
    const death = workerDeath(feedback.id);
    t.match(death, /^(died: SIGABRT \(out of memory\)|killed: resident memory over 160 MB)$/, "the worker process died of it, or was killed for it");
    t.equal(byId(feedback, "forward-notebook")?.status, "memory");
    // The limit named is the one that stopped it: the RSS cap when the service killed the worker for it.
    const limit = death?.startsWith("killed") ? 160 : 16;
    t.equal(byId(feedback, "forward-notebook")?.message, `forward_propagation ran out of memory (limit ${limit} MB).`);
    t.equal(byId(feedback, "backward-notebook")?.status, "error");
    t.equal(byId(feedback, "backward-notebook")?.message, "Not run: an earlier test exhausted the sandbox (time or memory).");
    const after = await waitForIdleWorkers(app, 2);
    t.equal(after.workers, 2, "the dead worker was replaced");
    t.equal(after.ready, 2);
    await honestStillScores100(t, app, env);
  });
}

t.test("ArrayBuffer bombs (one of 4 GB, 64 MB ones without end) are refused with a RangeError", async (t) => {
  const { feedback } = await submit(t, app, hostile("arraybuffer-bomb.mjs"), {}, env);
  t.equal(byId(feedback, "forward-notebook")?.status, "error");
  t.match(byId(feedback, "forward-notebook")?.message, /^forward_propagation threw RangeError: Array buffer allocation failed \(line 3, column \d+\)$/);
  t.equal(byId(feedback, "backward-notebook")?.status, "error");
  t.match(byId(feedback, "backward-notebook")?.message, /^backward_propagation threw RangeError: Array buffer allocation failed/);
  t.equal(workerDeath(feedback.id), undefined, "the worker did not die");
  await honestStillScores100(t, app, env);
});

t.test("growing a WebAssembly memory is a ReferenceError: there is no WebAssembly in the sandbox", async (t) => {
  const { feedback } = await submit(t, app, hostile("wasm-memory-growth.mjs"), {}, env);
  t.equal(byId(feedback, "forward-notebook")?.status, "error");
  t.match(byId(feedback, "forward-notebook")?.message, /^forward_propagation threw ReferenceError: WebAssembly is not defined \(line 3, column \d+\)$/);
  t.equal(score(feedback, "backward_propagation"), 25, "nothing else is affected");
  await honestStillScores100(t, app, env);
});

t.test("instantiating a looping WebAssembly module at top level is rejected with module_threw (WebAssembly is not defined)", async (t) => {
  const { feedback } = await submit(t, app, hostile("wasm-infinite-loop.mjs"), {}, env);
  t.equal(feedback.status, "rejected");
  t.equal(feedback.reason?.code, "module_threw");
  t.match(feedback.reason?.message, /^The module's top-level code threw ReferenceError: WebAssembly is not defined/);
  t.equal(feedback.reason?.line, 9, "the line of WebAssembly.instantiate");
  await honestStillScores100(t, app, env);
});

t.test("Atomics.wait on a SharedArrayBuffer cannot block: both are removed, so it is a ReferenceError", async (t) => {
  const { feedback } = await submit(t, app, hostile("shared-memory-atomics-wait.mjs"), {}, env);
  t.equal(byId(feedback, "forward-notebook")?.status, "error");
  t.match(byId(feedback, "forward-notebook")?.message, /^forward_propagation threw ReferenceError: (Atomics|SharedArrayBuffer) is not defined/);
  t.equal(byId(feedback, "backward-notebook")?.received, '"undefined,undefined,undefined,undefined"', "typeof SharedArrayBuffer, Atomics and their globalThis properties are all undefined");
  await honestStillScores100(t, app, env);
});

t.test("a typed array over a shrunk resizable ArrayBuffer, returned, thrown, rejected or printed, is never copied: plain verdicts", async (t) => {
  const { feedback } = await submit(t, app, hostile("shrunk-resizable-buffer.mjs"), {}, env);
  t.equal(byId(feedback, "forward-notebook")?.status, "failed");
  t.equal(byId(feedback, "forward-notebook")?.detail, "Wrong type: expected a finite number, received an instance of Float64Array.");
  t.equal(byId(feedback, "backward-notebook")?.status, "error");
  t.equal(byId(feedback, "backward-notebook")?.message, "backward_propagation threw Float64Array");
  t.equal(byId(feedback, "gradient-check-notebook")?.status, "error", "a promise rejected with one, and one left rejected");
  t.equal(byId(feedback, "gradient-check-n-notebook")?.status, "failed");
  t.equal(byId(feedback, "gradient-check-n-notebook")?.received, "[[Float64Array]]");
  t.match(feedback.output, "[Float64Array] [[Float64Array]] { view: [Float64Array] }");
  t.equal(workerDeath(feedback.id), undefined, "the worker did not die");
  await honestStillScores100(t, app, env);
});

t.test("a typed array over a shrunk resizable ArrayBuffer thrown at top level is rejected with module_threw, and the worker lives", async (t) => {
  const { feedback } = await submit(t, app, hostile("shrunk-resizable-buffer-at-top-level.mjs"), {}, env);
  t.equal(feedback.status, "rejected");
  t.equal(feedback.reason?.code, "module_threw");
  t.match(feedback.reason?.message, /^The module's top-level code threw /);
  t.equal(workerDeath(feedback.id), undefined, "the worker did not die");
  await honestStillScores100(t, app, env);
});
