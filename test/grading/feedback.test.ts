import t from "tap";
import request from "supertest";
import { Ajv } from "ajv";
import { buildApp, fastLimits } from "../helpers/app.js";
import { fixture, packFile } from "../helpers/files.js";
import type { Feedback, TestFeedback } from "../../src/grading/feedback.js";
import { schemas } from "../../src/schemas.js";

// Issue 6, feedback that teaches: each mistake names its kind, with the line and column in the student's own
// source (JavaScript or TypeScript) and the student's stack frames only; a summary that never hides a hidden
// failure; per-test durations and output; selective grading.

const app = await buildApp({ ...fastLimits, OUTPUT_KIB: "2", RESULT_KIB: "16" });
t.teardown(() => app.close());

const validateFeedback = new Ajv({ strict: false }).addSchema(Object.values(schemas)).getSchema(schemas.feedback.$id);
const reference = packFile("reference/solution.mjs");

/** The reference solution with TypeScript types on every graded function and some locals. */
function typedReference(): string {
  const annotations: Array<[string, string]> = [
    ["export function forward_propagation(x, theta) {", "type Matrix = number[][];\ninterface Parameters { [name: string]: Matrix }\nexport function forward_propagation(x: number, theta: number): number {"],
    ["export function backward_propagation(x, theta) {", "export function backward_propagation(x: number, theta: number): number {"],
    ["export function gradient_check(x, theta, epsilon = 1e-7, print_msg = false) {", "export function gradient_check(x: number, theta: number, epsilon: number = 1e-7, print_msg: boolean = false): number {"],
    ["export function gradient_check_n(parameters, gradients, X, Y, epsilon = 1e-7, print_msg = false) {", "export function gradient_check_n(parameters: Parameters, gradients: Parameters, X: Matrix, Y: Matrix, epsilon = 1e-7, print_msg = false): number {"],
    ["const grad = gradients_to_vector(gradients);", "const grad: Matrix = gradients_to_vector(gradients) as Matrix;"],
  ];
  return annotations.reduce((source, [from, to]) => {
    if (!source.includes(from)) throw new Error(`the reference has changed: no ${from}`);
    return source.replace(from, to);
  }, reference);
}

async function submit(source: string, extra: Record<string, unknown> = {}): Promise<Feedback> {
  const response = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source, ...extra });
  t.equal(response.status, 200, "answered with 200 and feedback");
  t.ok(validateFeedback?.(response.body), "the feedback matches feedback.schema.json");
  return response.body as Feedback;
}

function publicTest(feedback: Feedback, id: string): TestFeedback {
  const found = feedback.exercises.flatMap((e) => e.tests).find((x) => x.id === id);
  if (found === undefined) throw new Error(`no test ${id}`);
  return found;
}

/** The reference with forward_propagation's body replaced. */
function withForward(body: string, header = "export function forward_propagation(x, theta) {"): string {
  return reference.replace(/export function forward_propagation\(x, theta\) \{[\s\S]*?\n\}/, `${header}\n${body}\n}`);
}

function lineOf(source: string, needle: string): { line: number; column: number } {
  const offset = source.indexOf(needle);
  const before = source.slice(0, offset);
  return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
}

const kinds: Array<[string, string, string, string]> = [
  ["a reference error", "  return thetta * x;", "thetta", "reference_error"],
  ["a type error", "  const cache = null;\n  return cache.theta * x;", "cache.theta", "type_error"],
  ["a range error", "  return new Array(-1).length;", "new Array", "range_error"],
  ["a thrown string", '  throw "no";', "throw", "exception"],
];
for (const [what, body, at, kind] of kinds) {
  t.test(`${what} in a graded function is a ${kind}, at its line and column in the submission, with the student's frames only`, async (t) => {
    const source = withForward(body);
    const feedback = await submit(source);
    const test = publicTest(feedback, "forward-notebook");
    t.equal(test.status, "error");
    t.equal(test.errorKind, kind);
    if (kind !== "exception") {
      // V8 places some errors at the statement, others at the expression: the line is exact, the column in it.
      t.equal(test.line, lineOf(source, at).line, "the line is the faulty one");
      t.ok(test.column !== undefined && test.column >= 1 && test.column <= lineOf(source, at).column + at.length, "the column is in it");
      t.match(test.stack, /^ {4}at forward_propagation \(submission\.js:\d+:\d+\)/, "the stack names the student's file");
      t.notMatch(test.stack ?? "", /file:|gradebox|gc_utils|node:|prelude/, "and nothing of the service or the helpers");
    }
    t.equal(feedback.exercises[1]?.score, 25, "the other exercises are graded");
  });
}

t.test("a syntax error, a forbidden import and a top-level throw reject the module with their kind, line and column", async (t) => {
  const syntax = await submit("export function forward_propagation(x, theta) {\n  return theta * * x;\n}\n");
  t.same([syntax.reason?.code, syntax.reason?.errorKind, syntax.reason?.line], ["syntax_error", "syntax_error", 2]);
  t.type(syntax.reason?.column, "number");
  const importing = 'import { np } from "gc_utils";\nimport fs from "node:fs";\nexport const forward_propagation = () => fs;\n';
  const forbidden = await submit(importing);
  t.same([forbidden.reason?.code, forbidden.reason?.errorKind, forbidden.reason?.line, forbidden.reason?.column], ["forbidden_import", "forbidden_import", 2, 1]);
  const throwing = "const scale = 2;\nundefinedThing.call();\nexport const forward_propagation = () => scale;\n";
  const threw = await submit(throwing);
  t.same([threw.reason?.code, threw.reason?.errorKind, threw.reason?.line, threw.reason?.column], ["module_threw", "reference_error", 2, 1]);
  t.equal(threw.summary, "Not graded: the module could not be loaded (module_threw).");
});

t.test("a timeout, a memory limit, a wrong return type and a result too large each name their kind", async (t) => {
  const cases: Array<[string, string, string, string]> = [
    ["  for (;;) {}", "timeout", "timeout", "forward_propagation did not finish within 400 ms."],
    ["  const hoard = [];\n  for (;;) hoard.push(new Array(1e6).fill(x));", "memory_limit", "memory", "forward_propagation ran out of memory (limit 16 MB)."],
    ["  return [theta * x];", "wrong_return_type", "failed", "Error: Wrong output"],
    ['  return "x".repeat(20000);', "result_too_large", "failed", "forward_propagation returned a value larger than 16 KiB."],
  ];
  for (const [body, kind, status, message] of cases) {
    // A small heap, so that the memory limit is reached long before the time limit, even on a busy machine.
    const test = publicTest(await submit(withForward(body), { limits: { isolateMemoryMb: 16 } }), "forward-notebook");
    t.equal(test.errorKind, kind, `${kind}: the kind`);
    t.equal(test.status, status, `${kind}: the status`);
    t.match(test.message, message, `${kind}: the message`);
  }
});

t.test("a public failure shows expected, received, the tolerance, the notebook's words and the precise reason", async (t) => {
  const feedback = await submit(withForward("  return theta + x;"));
  const test = publicTest(feedback, "forward-notebook");
  t.equal(test.message, "Error: Wrong output", "the notebook's message");
  t.equal(test.detail, "Wrong value: received 6.");
  t.equal(test.expected, "a finite number equal to 8 (exactly)");
  t.equal(test.received, "6");
  t.equal(test.tolerance, "exactly");
  const n = publicTest(await submit(reference.replace("const difference = numerator / denominator;                                           // Step 3'", "const difference = numerator;")), "gradient-check-n-notebook");
  t.equal(n.message, "Wrong value. It is not one of the expected values");
  t.equal(n.tolerance, "rtol 1e-5, atol 1e-8", "numpy's isclose defaults, as the notebook's test");
});

t.test("TypeScript is graded once its types are stripped: the typed reference scores 100", async (t) => {
  const feedback = await submit(typedReference(), { language: "typescript" });
  t.equal(feedback.language, "typescript");
  t.equal(feedback.score, 100);
  t.equal(feedback.summary, "All tests passed.");
});

t.test("errors in TypeScript point at the line and column of the TypeScript source, and its stack names submission.ts", async (t) => {
  const typed = typedReference();
  const source = typed.replace("  const J = theta * x;", "  const scale: Map<string, number> = new Map<string, number>();\n  const J: number = thetta * x * scale.size;");
  const feedback = await submit(source, { language: "typescript" });
  const test = publicTest(feedback, "forward-notebook");
  t.equal(test.errorKind, "reference_error");
  t.equal(test.line, lineOf(source, "thetta").line);
  t.ok((test.column ?? 0) >= 1, "with a column");
  t.match(test.stack, /at forward_propagation \(submission\.ts:\d+:\d+\)/);
  const broken = await submit("type T = number;\nexport function forward_propagation(x: T, theta: T): T {\n  return theta * * x;\n}\n", { language: "typescript" });
  t.same([broken.reason?.code, broken.reason?.line], ["syntax_error", 3]);
  const enumSource = "type T = number;\n\nenum Step { Plus, Minus }\nexport const forward_propagation = (x: T, theta: T): T => theta * x;\n";
  const unsupported = await submit(enumSource, { language: "typescript" });
  t.same([unsupported.reason?.code, unsupported.reason?.errorKind, unsupported.reason?.line, unsupported.reason?.column], ["unsupported_typescript", "unsupported_typescript", 3, 1]);
  t.match(unsupported.reason?.message, /enum declaration/);
  const nested = await submit(`export const forward_propagation = (x: number, theta: number): number => ${"(".repeat(5000)}theta * x${")".repeat(5000)};\n`, { language: "typescript" });
  t.same([nested.reason?.code, nested.reason?.line], ["unsupported_typescript", 1], "TypeScript nested too deeply to parse is the student's problem, not a 500");
});

t.test("the summary never says all tests passed while a hidden test fails", async (t) => {
  const cached = await submit(fixture("hostile/caches-first-answer.mjs"));
  t.ok(cached.exercises.flatMap((e) => e.tests).filter((x) => x.visibility === "public").every((x) => x.status === "passed" || x.id.startsWith("gradient")), "its forward and backward public tests pass");
  t.notMatch(cached.summary, /^All tests passed/);
  t.match(cached.summary, /hidden tests? failed \(in forward_propagation, backward_propagation/);
  const hiddenOnly = await submit(reference.replace("const [parameters_values, _] = dictionary_to_vector(parameters);", "$&\n  if (epsilon !== 1e-7) return 0;"));
  t.match(hiddenOnly.summary, /^All 5 public tests passed, but [12] of 20 hidden tests failed \(in gradient_check_n\)\.$/);
  const publicToo = await submit(reference.replace("const difference = numerator / denominator;                                           // Step 3'", "const difference = numerator;"));
  t.match(publicToo.summary, /^1 of 5 public tests failed \(in gradient_check_n\); and \d+ of 20 hidden tests failed \(in gradient_check_n\)\.$/);
  t.equal((await submit(reference)).summary, "All tests passed.");
});

t.test("public tests report their duration and output, cut with a marker; hidden tests report neither", async (t) => {
  const feedback = await submit(withForward('  console.log("x".repeat(5000));\n  return theta * x;'));
  const test = publicTest(feedback, "forward-notebook");
  t.type(test.durationMs, "number");
  t.match(test.output, /\n\[output truncated: over the 2 KiB limit\]\n$/, "the cut output says so");
  t.ok(Buffer.byteLength(feedback.output) <= 2048, "the whole output stays within OUTPUT_KIB, markers included");
  t.equal(feedback.outputTruncated, true);
  for (const hidden of feedback.exercises.flatMap((e) => e.tests).filter((x) => x.visibility === "hidden")) {
    t.equal(hidden.durationMs, undefined, `${hidden.id} has no duration`);
    t.equal(hidden.output, undefined, `${hidden.id} has no output`);
  }
});

t.test("tests that finished before the submission's budget ran out keep their credit; only the rest are timeouts", async (t) => {
  const source = reference.replace("export function gradient_check_n(parameters, gradients, X, Y, epsilon = 1e-7, print_msg = false) {", "$&\n  for (;;) {}");
  const feedback = await submit(source, { limits: { submissionWallMs: 1200 } });
  t.same(feedback.exercises.map((e) => e.score), [25, 25, 25, 0]);
  t.equal(feedback.score, 75);
  const n = feedback.exercises[3]?.tests ?? [];
  t.equal(n[0]?.status, "timeout");
  t.ok(n.some((x) => x.visibility === "public" && /used up its time budget/.test(x.message)) || n.filter((x) => x.visibility === "hidden").every((x) => x.status === "failed"), "the unfinished ones are timeouts (hidden: failed)");
});

t.test("exercises: [...] grades only those exercises, and an unknown one is refused", async (t) => {
  const feedback = await submit(reference, { exercises: ["gradient_check"] });
  t.same(feedback.exercises.map((e) => e.name), ["gradient_check"]);
  t.same([feedback.score, feedback.maxScore], [25, 25]);
  t.equal(feedback.summary, "All tests passed.");
  const two = await submit(withForward("  return 0;"), { exercises: ["forward_propagation", "backward_propagation"] });
  t.same([two.score, two.maxScore], [25, 50]);
  const unknown = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: reference, exercises: ["gradient_check", "gradient_check_m"] });
  t.equal(unknown.status, 400);
  t.equal(unknown.body.error.code, "unknown_exercise");
  t.match(unknown.body.error.message, /'gradient_check_m'/);
});
