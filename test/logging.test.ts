import t from "tap";
import request from "supertest";
import { Writable } from "node:stream";
import { buildApp, fastLimits } from "./helpers/app.js";
import { packFile } from "./helpers/files.js";

const lines: Array<Record<string, unknown>> = [];
const raw: string[] = [];
const stream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  },
});
// Long enough call limits that the memory bomb below exhausts memory before it runs out of time. The
// isolate's heap may grow far past the worker's resident-memory cap, so it is the cap that stops the bomb:
// the service kills the worker, which is the death this file logs. (With the isolate's own limit first,
// V8 sometimes stops the bomb inside the isolate and the worker lives, depending on the machine's load.)
const app = await buildApp({ ...fastLimits, CALL_TIMEOUT_MS: "5000", SUBMISSION_WALL_MS: "10000", ISOLATE_MEMORY_MB: "1024", WORKER_RSS_MB: "160" }, { logStream: stream });
t.teardown(() => app.close());

const marker = "a-comment-that-must-never-be-logged-7d1f";
const source = `// ${marker}\n${packFile("reference/solution.mjs")}`;

t.test("one log line per grading, with id, assignment, verdict, duration and worker", async (t) => {
  const response = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source });
  const graded = lines.filter((l) => l.msg === "graded");
  t.equal(graded.length, 1);
  t.match(graded[0], {
    submission: response.body.id,
    assignment: "gradient-checking",
    assignmentVersion: response.body.assignmentVersion,
    status: "graded",
    score: 100,
    tests: { passed: 25 },
    durationMs: Number,
    workerId: Number,
  });
});

t.test("a worker that dies is logged with the reason", async (t) => {
  const bomb = packFile("reference/solution.mjs").replace("export function forward_propagation(x, theta) {", "export function forward_propagation(x, theta) {\n  const hoard = [];\n  for (;;) hoard.push(new Array(1e5).fill(1.5));");
  const response = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: bomb });
  t.equal(response.body.exercises[0].tests[0].status, "memory");
  const graded = lines.filter((l) => l.msg === "graded").at(-1);
  t.match(graded?.workerDeath, /killed: resident memory over 160 MB/);
  t.ok(lines.some((l) => l.msg === "grading worker stopped during a grading" && typeof l.reason === "string"));
});

t.test("the source, hidden arguments and hidden expected values never reach the log", async (t) => {
  await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: `// ${marker}\nexport const forward_propagation = (...a) => { throw new Error(JSON.stringify(a)); };` });
  const log = raw.join("\n");
  t.notOk(log.includes(marker), "no source");
  for (const id of ["forward-negative-x", "gradient-check-large-theta", "gradient-check-huge-theta"]) {
    const hidden = JSON.parse(packFile(`cases/${id}.json`));
    t.notOk(log.includes(JSON.stringify(hidden.args)), `${id}'s arguments are not logged`);
    t.notOk(log.includes(String(hidden.expect.value)), `${id}'s expected value is not logged`);
  }
});
