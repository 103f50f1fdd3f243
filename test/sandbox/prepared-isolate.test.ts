import t from "tap";
import path from "node:path";
import { root } from "../helpers/app.js";
import type { Limits } from "../../src/config.js";
import { grade } from "../../src/grading/grade.js";
import type { GradablePack } from "../../src/packs/types.js";
import { readPackDir } from "../../src/packs/pack-files.js";
import { parsePack } from "../../src/packs/pack.js";
import { SandboxPool } from "../../src/sandbox/pool.js";
import { isWorkerMessage } from "../../src/sandbox/protocol.js";
import { reference } from "./support.js";

// Issue 7: a worker makes the next job's isolate while idle. It must still be a fresh isolate (nothing of the
// previous submission in it), be used only when the job asks for the same setup, and the phases the worker
// reports must pass the protocol's checks.

const { pack } = parsePack(await readPackDir(path.join(root, "graders", "gradient-checking")), "gradient-checking");
if (pack === undefined) throw new Error("the gradient-checking pack does not parse");

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const p = new SandboxPool({ size: 1, maxGradings: 50, rssMb: 512, spawnTimeoutMs: 20_000, killGraceMs: 300, queueLength: 10, resultMaxDepth: 32, logger: silent });
t.teardown(() => p.close());
await p.ready();

function limits(overrides: Partial<Limits> = {}): Limits {
  return { callTimeoutMs: 1000, evalTimeoutMs: 1000, submissionWallMs: 8000, isolateMemoryMb: 64, outputKiB: 64, resultKiB: 64, ...overrides };
}

async function gradeWith(source: string, lim: Limits) {
  const gradable: GradablePack = { pack: pack as NonNullable<typeof pack>, referenceValues: new Map(), limits: lim };
  return grade(gradable, source, lim, { pool: p, resultMaxDepth: 32 });
}

// Counts, in a global, the submissions that ran in this isolate: always 1 in a fresh one.
const counting = `${reference}\nglobalThis.__runs = (globalThis.__runs ?? 0) + 1;\nconsole.log("runs in this isolate: " + globalThis.__runs);\n`;

t.test("the next isolate is made while the worker is idle, and is fresh", async (t) => {
  const first = await gradeWith(counting, limits());
  t.equal(first.feedback.score, 100);
  t.match(first.feedback.output, /runs in this isolate: 1\n/);
  t.equal(first.report.phases?.preparedAhead, false, "the worker's first job had no isolate made ahead");
  for (let i = 2; i <= 4; i++) {
    const next = await gradeWith(counting, limits());
    t.equal(next.feedback.score, 100, `grading ${i} scores 100`);
    t.match(next.feedback.output, /runs in this isolate: 1\n/, `grading ${i} ran in a fresh isolate`);
    t.equal(next.report.phases?.preparedAhead, true, `grading ${i} used the isolate made while idle`);
    t.type(next.report.phases?.previousDisposeMs, "number", "and reports the previous isolate's disposal");
  }
});

t.test("a job whose limits change the isolate's setup does not use the one made ahead", async (t) => {
  await gradeWith(reference, limits());
  const smaller = await gradeWith(counting, limits({ isolateMemoryMb: 32 }));
  t.equal(smaller.feedback.score, 100);
  t.equal(smaller.report.phases?.preparedAhead, false, "a different heap limit: a new isolate");
  const output = await gradeWith(counting, limits({ isolateMemoryMb: 32, outputKiB: 8 }));
  t.equal(output.report.phases?.preparedAhead, false, "a different output limit: a new isolate");
  const same = await gradeWith(counting, limits({ isolateMemoryMb: 32, outputKiB: 8, callTimeoutMs: 500 }));
  t.equal(same.report.phases?.preparedAhead, true, "a different call timeout only: the isolate made ahead");
  t.match(same.feedback.output, /runs in this isolate: 1\n/);
});

t.test("the phases in a worker's done message are checked like the rest of it", async (t) => {
  const phases = { isolateMs: 1, contextMs: 1, preparedAhead: true, setupWaitMs: 0, loadMs: 1, testsMs: 40, previousDisposeMs: 0.5 };
  t.ok(isWorkerMessage({ type: "done", jobId: "j", tainted: false, phases }));
  t.ok(isWorkerMessage({ type: "done", jobId: "j", tainted: false }), "phases are optional");
  t.notOk(isWorkerMessage({ type: "done", jobId: "j", tainted: false, phases: { ...phases, testsMs: -1 } }), "no negative times");
  t.notOk(isWorkerMessage({ type: "done", jobId: "j", tainted: false, phases: { ...phases, extra: "x".repeat(10) } }), "no other fields");
  t.notOk(isWorkerMessage({ type: "done", jobId: "j", tainted: false, phases: { ...phases, preparedAhead: "yes" } }));
});
