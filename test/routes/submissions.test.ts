import t from "tap";
import request from "supertest";
import { Ajv } from "ajv";
import { buildApp, fastLimits } from "../helpers/app.js";
import { fixture, packFile, packMutant, packMutants } from "../helpers/files.js";
import type { Feedback } from "../../src/grading/feedback.js";
import { schemas } from "../../src/schemas.js";

const app = await buildApp({ ...fastLimits, SOURCE_KIB: "64", REQUEST_KIB: "512" });
t.teardown(() => app.close());


async function submit(source: string, extra: Record<string, unknown> = {}): Promise<Feedback> {
  const response = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source, ...extra });
  t.equal(response.status, 200, "a submission is answered with 200 and feedback");
  return response.body as Feedback;
}

function test(feedback: Feedback, id: string) {
  return feedback.exercises.flatMap((e) => e.tests).find((x) => x.id === id);
}

const validateFeedback = new Ajv({ strict: false }).addSchema(Object.values(schemas)).getSchema(schemas.feedback.$id);

t.test("the reference solution scores 100 of 100, with every test passed", async (t) => {
  const feedback = await submit(packFile("reference/solution.mjs"));
  t.equal(feedback.status, "graded");
  t.equal(feedback.score, 100);
  t.equal(feedback.maxScore, 100);
  t.same(feedback.exercises.map((e) => [e.name, e.score, e.passed]), [
    ["forward_propagation", 25, true],
    ["backward_propagation", 25, true],
    ["gradient_check", 25, true],
    ["gradient_check_n", 25, true],
  ]);
  t.ok(validateFeedback?.(feedback), "the feedback matches submissions-schema/api/feedback.schema.json");
  t.match(feedback.assignmentVersion, /^[0-9a-f]{16}$/);
});

t.test("the notebook's printed messages come back in the output, ANSI colours included", async (t) => {
  const feedback = await submit(packFile("reference/solution.mjs"));
  t.equal(
    feedback.output,
    "\x1b[92mYour backward propagation works perfectly fine! difference = 7.814075313343006e-11\x1b[0m\n"
      + "\x1b[93mThere is a mistake in the backward propagation! difference = 0.2850931567761623\x1b[0m\n",
  );
  t.equal(test(feedback, "gradient-check-n-notebook")?.output, "\x1b[93mThere is a mistake in the backward propagation! difference = 0.2850931567761623\x1b[0m\n");
});

t.test("correct solutions written other ways (own loops, flattened vector, np helpers) score 100", async (t) => {
  for (const file of ["correct-own-loops.mjs", "correct-flattened.mjs", "correct-np-helpers.mjs"]) {
    const feedback = await submit(fixture(`gradient-checking/${file}`));
    t.equal(feedback.score, 100, file);
  }
});

t.test("a solution with backward_propagation_n fixed still passes: the public case accepts both notebook values", async (t) => {
  const fixed = packFile("reference/solution.mjs").replace(
    "const grad = gradients_to_vector(gradients);",
    "const grad = gradients_to_vector(backward_propagation_n(X, Y, forward_propagation_n(X, Y, parameters)[1]));",
  );
  t.not(fixed, packFile("reference/solution.mjs"), "the edit applied");
  const feedback = await submit(fixed);
  t.equal(test(feedback, "gradient-check-n-notebook")?.status, "passed");
  t.match(feedback.output, /Your backward propagation works perfectly fine! difference = 1\.18909130\d*e-07/);
});

t.test("every mutant scores below 100, and loses the points of the exercise it breaks", async (t) => {
  for (const mutant of packMutants()) {
    const feedback = await submit(mutant.source);
    t.equal(feedback.status, "graded", mutant.id);
    t.ok(feedback.score < 100, `${mutant.id} scores ${feedback.score}`);
    for (const name of mutant.mustFail) {
      const exercise = feedback.exercises.find((e) => e.name === name);
      t.equal(exercise?.score, 0, `${mutant.id} scores 0 on ${name}`);
    }
  }
});

t.test("the starter loads and scores 0, with the notebook's messages on the public gradient_check_n case", async (t) => {
  const feedback = await submit(packFile("starter/solution.mjs"));
  t.equal(feedback.status, "graded");
  t.equal(feedback.score, 0);
  const notebook = test(feedback, "gradient-check-n-notebook");
  t.equal(notebook?.status, "failed");
  t.equal(notebook?.message, "You are not using np.linalg.norm for numerator or denominator");
});

t.test("a public failure shows the expectation and the received value; a wrong value gets the notebook's message", async (t) => {
  const feedback = await submit(packMutant("gradient-check-n-divides-by-epsilon"));
  const notebook = test(feedback, "gradient-check-n-notebook");
  t.equal(notebook?.status, "failed");
  t.equal(notebook?.message, "Wrong value. It is not one of the expected values");
  t.match(notebook?.expected, /one of 0\.2850931567761623, 1\.1890913024229996e-7/);
  t.match(notebook?.received, /^0\.288/);
  const returnsArray = await submit(packFile("mutants/gradient-check-n-returns-array.mjs"));
  t.equal(test(returnsArray, "gradient-check-n-notebook")?.message, "You are not using np.linalg.norm for numerator or denominator");
});

t.test("hidden tests carry only a generic message: no arguments, expected values, received values or output", async (t) => {
  const response = await request(app.server).post("/v1/submissions").send({
    assignment: "gradient-checking",
    source: fixture("hostile/prints-and-throws-its-arguments.mjs"),
  });
  const feedback = response.body as Feedback;
  const hidden = feedback.exercises.flatMap((e) => e.tests).filter((x) => x.visibility === "hidden");
  t.ok(hidden.length >= 10, "there are hidden tests");
  for (const x of hidden) {
    t.same(Object.keys(x).sort(), ["hint", "id", "message", "status", "visibility"], `${x.id} has no details`);
    t.equal(x.message, "Hidden test failed.", `${x.id} says only that it failed`);
  }
  const text = response.text;
  for (const file of ["forward-negative-x", "gradient-check-large-theta", "gradient-check-n-seed2-m5", "gradient-check-huge-theta"]) {
    const hiddenCase = JSON.parse(packFile(`cases/${file}.json`)) as { args: unknown[]; expect: { value: unknown } };
    t.notOk(text.includes(JSON.stringify(hiddenCase.expect.value)), `${file}'s expected value is not in the response`);
    const firstNumber = JSON.stringify(hiddenCase.args).match(/-?\d+\.\d{6,}/)?.[0];
    if (firstNumber !== undefined) t.notOk(text.includes(firstNumber), `${file}'s arguments are not in the response`);
  }
  t.notOk(text.includes("250000000"), "the huge-theta case's argument is not echoed");
  t.notOk(text.includes("1000000"), "the large-theta case's argument is not echoed");
  t.match(feedback.output, /public call/, "public calls' output is returned");
});

t.test("a syntax error rejects the module, with the line and column", async (t) => {
  const feedback = await submit("export function forward_propagation(x, theta) {\n  return theta * x\n}\nexport function backward_propagation(x, {\n");
  t.equal(feedback.status, "rejected");
  t.equal(feedback.score, 0);
  t.equal(feedback.reason?.code, "syntax_error");
  t.equal(feedback.reason?.line, 5);
  t.type(feedback.reason?.column, "number");
  t.ok(feedback.exercises.every((e) => e.score === 0 && e.tests.every((x) => x.status === (x.visibility === "public" ? "error" : "failed"))));
});

t.test("an import other than gc_utils rejects the module, naming the specifier", async (t) => {
  const feedback = await submit('import fs from "node:fs";\nexport const forward_propagation = () => fs;\n');
  t.equal(feedback.status, "rejected");
  t.equal(feedback.reason?.code, "forbidden_import");
  t.match(feedback.reason?.message, /"node:fs"/);
  t.match(feedback.reason?.message, /"gc_utils"/);
});

t.test("an import of a name gc_utils does not export rejects the module with the name", async (t) => {
  const feedback = await submit('import { numpy } from "gc_utils";\nexport const forward_propagation = () => numpy;\n');
  t.equal(feedback.reason?.code, "link_error");
  t.match(feedback.reason?.message, /numpy/);
});

t.test("a top-level throw rejects the module, with the message and its line", async (t) => {
  const feedback = await submit('const x = 1;\nthrow new RangeError("no way");\n');
  t.equal(feedback.reason?.code, "module_threw");
  t.match(feedback.reason?.message, /RangeError: no way/);
  t.equal(feedback.reason?.line, 2);
});

t.test("an infinite loop in a graded function is a timeout verdict, and the other exercises are graded", async (t) => {
  const looping = packFile("reference/solution.mjs").replace("export function forward_propagation(x, theta) {", "export function forward_propagation(x, theta) {\n  if (x === 2) for (;;) {}");
  const feedback = await submit(looping);
  t.equal(feedback.status, "graded");
  t.equal(test(feedback, "forward-notebook")?.status, "timeout");
  t.match(test(feedback, "forward-notebook")?.message, /did not finish within 400 ms/);
  t.equal(feedback.exercises.find((e) => e.name === "backward_propagation")?.score, 25);
  t.equal((await submit(packFile("reference/solution.mjs"))).score, 100, "the next submission is graded normally");
});

t.test("a missing export is an error on that exercise's tests only", async (t) => {
  const feedback = await submit(packFile("reference/solution.mjs").replace("export function backward_propagation", "function backward_propagation"));
  t.equal(test(feedback, "backward-notebook")?.status, "error");
  t.match(test(feedback, "backward-notebook")?.message, /does not export a function named backward_propagation/);
  t.equal(feedback.exercises.find((e) => e.name === "forward_propagation")?.score, 25);
});

t.test("a thrown error inside a graded function reports its message and line for public tests", async (t) => {
  const feedback = await submit("export function forward_propagation(x, theta) {\n  return x.notAFunction();\n}\n");
  const forward = test(feedback, "forward-notebook");
  t.equal(forward?.status, "error");
  t.match(forward?.message, /TypeError: x\.notAFunction is not a function \(line 2, column \d+\)/);
});

t.test("HTTP errors are structured: each has a stable code and the right status", async (t) => {
  const cases: Array<[string, () => request.Test, number, string]> = [
    ["missing source", () => request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking" }), 400, "invalid_request"],
    ["wrong type", () => request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: 42 }), 400, "invalid_request"],
    ["unknown field", () => request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: "", extra: 1 }), 400, "invalid_request"],
    ["malformed JSON", () => request(app.server).post("/v1/submissions").set("content-type", "application/json").send('{"assignment": '), 400, "invalid_json"],
    ["empty body", () => request(app.server).post("/v1/submissions").set("content-type", "application/json").send(""), 400, "invalid_json"],
    ["not JSON", () => request(app.server).post("/v1/submissions").set("content-type", "text/plain").send("hello"), 415, "unsupported_media_type"],
    ["unknown assignment", () => request(app.server).post("/v1/submissions").send({ assignment: "no-such-thing", source: "" }), 404, "assignment_not_found"],
    ["source over SOURCE_KIB", () => request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: "x".repeat(65 * 1024) }), 413, "source_too_large"],
    ["body over REQUEST_KIB", () => request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: "x".repeat(600 * 1024) }), 413, "request_too_large"],
    ["raising a limit", () => request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: "", limits: { callTimeoutMs: 999999 } }), 400, "limit_too_high"],
    ["unknown route", () => request(app.server).get("/v1/nothing"), 404, "route_not_found"],
  ];
  for (const [what, send, status, code] of cases) {
    const response = await send();
    t.equal(response.status, status, `${what}: status ${status}`);
    t.equal(response.body?.error?.code, code, `${what}: code ${code}`);
    t.type(response.body?.error?.message, "string", `${what}: a message`);
    t.notOk(JSON.stringify(response.body).includes("    at "), `${what}: no stack trace`);
  }
});

t.test("a request may lower a limit, and the lower limit applies", async (t) => {
  const looping = packFile("reference/solution.mjs").replace("export function forward_propagation(x, theta) {", "export function forward_propagation(x, theta) {\n  for (;;) {}");
  const feedback = await submit(looping, { limits: { callTimeoutMs: 100 } });
  t.match(test(feedback, "forward-notebook")?.message, /within 100 ms/);
});

t.test("the same Idempotency-Key and body replay the same feedback; another body conflicts", async (t) => {
  const source = packFile("reference/solution.mjs");
  const first = await request(app.server).post("/v1/submissions").set("idempotency-key", "attempt-1").send({ assignment: "gradient-checking", source });
  const again = await request(app.server).post("/v1/submissions").set("idempotency-key", "attempt-1").send({ assignment: "gradient-checking", source });
  t.equal(first.status, 200);
  t.equal(again.status, 200);
  t.equal(again.body.id, first.body.id, "the same grading is returned");
  t.equal(again.headers["idempotent-replayed"], "true");
  const other = await request(app.server).post("/v1/submissions").set("idempotency-key", "attempt-1").send({ assignment: "gradient-checking", source: `${source}\n// changed` });
  t.equal(other.status, 409);
  t.equal(other.body.error.code, "idempotency_conflict");
});

t.test("a submissionId works as the idempotency key; it must agree with the header when both are sent", async (t) => {
  const source = packFile("reference/solution.mjs");
  const body = { assignment: "gradient-checking", source, submissionId: "platform-42" };
  const first = await request(app.server).post("/v1/submissions").send(body);
  const again = await request(app.server).post("/v1/submissions").send(body);
  t.equal(again.body.id, first.body.id, "the same grading is returned, not graded again");
  t.equal(again.headers["idempotent-replayed"], "true");
  const viaHeader = await request(app.server).post("/v1/submissions").set("idempotency-key", "platform-42").send({ assignment: "gradient-checking", source });
  t.equal(viaHeader.body.id, first.body.id, "the header and the submissionId name the same key");
  const changed = await request(app.server).post("/v1/submissions").send({ ...body, exercises: ["gradient_check"] });
  t.equal(changed.status, 409, "grading fewer exercises is another request");
  t.equal(changed.body.error.code, "idempotency_conflict");
  const mismatch = await request(app.server).post("/v1/submissions").set("idempotency-key", "a").send({ ...body, submissionId: "b" });
  t.equal(mismatch.status, 400);
  t.equal(mismatch.body.error.code, "idempotency_key_mismatch");
});
