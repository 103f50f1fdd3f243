import t from "tap";
import path from "node:path";
import { readPackDir } from "../../src/packs/pack-files.js";
import { preparePack } from "../../src/packs/self-test.js";
import { grade } from "../../src/grading/grade.js";
import type { GradablePack } from "../../src/packs/types.js";
import type { Feedback, TestFeedback } from "../../src/grading/feedback.js";
import { render } from "../../src/formats/index.js";
import type { GradescopeResults } from "../../src/formats/gradescope.js";
import type { PrairieLearnResults } from "../../src/formats/prairielearn.js";
import type { XqueueResult } from "../../src/formats/xqueue.js";
import type { CourseraResult } from "../../src/formats/coursera.js";
import { poolOptions, SandboxPool } from "../../src/sandbox/pool.js";
import { schemas, validator } from "../../src/schemas.js";
import { root, testConfig } from "../helpers/app.js";
import { fixture, readRepoFile } from "../helpers/files.js";

// The expectations test pack (test/fixtures/packs/expectations) has a case of every kind: printed
// output (exact text, pattern, a rule on the returned number), a default left to run, arguments left
// unchanged or updated in place, NaN and Infinity, and weights.
const config = testConfig();
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const pool = new SandboxPool({ ...poolOptions(config, silent), maxGradings: 100, queueLength: 256 });
t.teardown(() => pool.close());
const packDir = path.join(root, "test", "fixtures", "packs", "expectations");
const prepared = await preparePack(await readPackDir(packDir), "expectations", config.limits, { pool, resultMaxDepth: config.resultMaxDepth, concurrency: 2 });
const gradable = prepared.gradable as GradablePack;
const validFeedback = validator(schemas.feedback);

async function submit(source: string, language: "javascript" | "typescript" = "javascript"): Promise<Feedback> {
  const { feedback } = await grade(gradable, source, gradable.limits, { pool, resultMaxDepth: config.resultMaxDepth }, { language, text: source });
  if (!validFeedback(feedback)) throw new Error(`feedback off its schema: ${JSON.stringify(validFeedback.errors)}`);
  return feedback;
}

const mutant = (name: string) => readRepoFile("test", "fixtures", "packs", "expectations", "mutants", `${name}.mjs`);
const tests = (feedback: Feedback) => feedback.exercises.flatMap((e) => e.tests);
const test = (feedback: Feedback, id: string) => tests(feedback).find((x) => x.id === id) as TestFeedback;

t.test("the pack proves itself: the reference passes every kind of expectation and each mutant fails one", async (t) => {
  t.same(prepared.problems, []);
  t.equal(prepared.selfTest?.reference.passed, 13);
  t.same(prepared.selfTest?.mutants.map((m) => [m.file, m.failedCases]), [
    ["mutants/check-swapped-colours.mjs", ["check-fine", "check-pattern", "check-big", "check-exactly-ten"]],
    ["mutants/check-at-least.mjs", ["check-exactly-ten"]],
    ["mutants/greet-wrong-default.mjs", ["greet-default"]],
    ["mutants/total-sorts-in-place.mjs", ["total-unchanged", "total-unchanged-hidden"]],
    ["mutants/scale-copies.mjs", ["scale-public"]],
    ["mutants/ratio-zero-for-zero.mjs", ["ratio-nan"]],
  ]);
});

for (const [language, source] of [["javascript", readRepoFile("test", "fixtures", "packs", "expectations", "reference", "solution.mjs")], ["typescript", fixture("expectations/correct.ts")]] as const) {
  t.test(`a correct ${language} submission passes every kind of expectation`, async (t) => {
    const feedback = await submit(source, language);
    t.equal(feedback.summary, "All tests passed.");
    t.equal(feedback.score, 62);
    t.equal(test(feedback, "check-fine").output, "\u001b[92mFine: 6\u001b[0m\n", "its printed text is in its output, as before");
  });
}

t.test("a public output failure shows the expected text beside the printed one, colour codes written out", async (t) => {
  for (const [language, source] of [["javascript", mutant("check-swapped-colours")], ["typescript", fixture("expectations/wrong-everywhere.ts")]] as const) {
    const failed = test(await submit(source, language), "check-fine");
    t.same({ status: failed.status, errorKind: failed.errorKind, message: failed.message, expected: failed.expected, received: failed.received }, {
      status: "failed",
      errorKind: "wrong_output",
      message: "Print the message for the value, in its colour",
      expected: 'printed: "\\x1b[92mFine: 6\\x1b[0m"',
      received: 'printed: "\\x1b[93mFine: 6\\x1b[0m"',
    }, language);
    t.equal(failed.detail, "Wrong output: the returned value is right, but the printed text is not the expected one.");
  }
  const pattern = test(await submit(mutant("check-swapped-colours")), "check-pattern");
  t.same([pattern.errorKind, pattern.expected], ["wrong_output", "printed text matching the pattern /^\\x1b\\[93mToo big: [0-9]+\\x1b\\[0m$/"]);
});

t.test("a hidden output failure says only that the hidden test failed: not the text, not the expectation", async (t) => {
  const feedback = await submit(mutant("check-at-least"));
  const check = feedback.exercises.find((e) => e.name === "check");
  t.same(check?.tests.map((x) => [x.id, x.status]), [["check-fine", "passed"], ["check-pattern", "passed"], ["check-hidden-1", "passed"], ["check-hidden-2", "failed"]]);
  t.same(Object.keys(test(feedback, "check-hidden-2")).sort(), ["hint", "id", "message", "status", "visibility"]);
  t.notMatch(JSON.stringify(feedback), /Too big: 10/, "what the hidden case printed never leaves the worker");
  t.equal(feedback.output.includes("Too big"), true, "only the public calls' output is in the feedback");
  t.notMatch(feedback.output, /: 10\b/);
});

t.test("a default left out of the call runs the function's own default", async (t) => {
  const correct = test(await submit(fixture("expectations/correct.ts"), "typescript"), "greet-default");
  t.equal(correct.status, "passed");
  const wrong = test(await submit(mutant("greet-wrong-default")), "greet-default");
  t.same([wrong.status, wrong.errorKind, wrong.received], ["failed", "wrong_value", '"Hello, Ada."']);
});

t.test("arguments that must stay unchanged are checked after the call, in JS and TS", async (t) => {
  for (const [language, source] of [["javascript", mutant("total-sorts-in-place")], ["typescript", fixture("expectations/wrong-everywhere.ts")]] as const) {
    const feedback = await submit(source, language);
    const changed = test(feedback, "total-unchanged");
    t.same([changed.status, changed.errorKind, changed.message, changed.expected], ["failed", "arguments_changed", "total must not change the array it is given", "the arguments left unchanged"], language);
    t.match(changed.received, /^the arguments after the call: \[\[/);
    t.equal(test(feedback, "total-hidden-1").status, "failed");
    t.same(Object.keys(test(feedback, "total-hidden-1")).sort(), ["hint", "id", "message", "status", "visibility"], "a hidden case's arguments stay in the worker");
  }
});

t.test("arguments that must be updated in place are compared with the expected arguments after the call", async (t) => {
  const ok = test(await submit(fixture("expectations/correct.ts"), "typescript"), "scale-public");
  t.equal(ok.status, "passed");
  const copies = test(await submit(mutant("scale-copies")), "scale-public");
  t.same([copies.status, copies.errorKind, copies.expected, copies.received], ["failed", "arguments_changed", "the arguments after the call equal to [[2, 4, 6], 2]", "the arguments after the call: [[1, 2, 3], 2]"]);
});

t.test("NaN and Infinity travel as {\"$number\": …} in arguments and expected values", async (t) => {
  const reference = await submit(mutant("ratio-zero-for-zero").replace("a === 0 && b === 0 ? 0 : ", ""));
  t.same(reference.exercises.find((e) => e.name === "ratio")?.tests.map((x) => x.status), ["passed", "passed", "passed"], "NaN for 0/0, and Infinity / 2 is Infinity");
  for (const [language, source] of [["javascript", mutant("ratio-zero-for-zero")], ["typescript", fixture("expectations/wrong-everywhere.ts")]] as const) {
    const nan = test(await submit(source, language), "ratio-nan");
    t.same([nan.status, nan.errorKind, nan.expected, nan.received], ["failed", "wrong_value", "a number equal to NaN (exactly)", "0"], language);
  }
  const finite = test(await submit(mutant("ratio-zero-for-zero").replace("return a === 0 && b === 0 ? 0 : a / b;", "return NaN;")), "ratio-finite");
  t.same([finite.status, finite.errorKind], ["failed", "wrong_return_type"], "NaN is still the wrong type where a finite number is expected");
});

t.test("weights share a proportional exercise's points, and each test shows its points", async (t) => {
  const feedback = await submit(fixture("expectations/wrong-everywhere.ts"), "typescript");
  const weighted = feedback.exercises.find((e) => e.name === "weighted");
  t.equal(weighted?.score, 3, "12 points: the passing case of weight 1 earns 3, the failing one of weight 3 would earn 9");
  t.same(weighted?.tests.map((x) => [x.id, x.status, x.points, x.maxPoints]), [["weighted-one", "passed", 3, 3], ["weighted-hidden-1", "failed", 0, 9]]);
  t.equal(feedback.exercises.find((e) => e.name === "check")?.tests[0]?.points, undefined, "exercises without weights keep their shape");
  const gradescope = render("gradescope", feedback) as GradescopeResults;
  t.same(gradescope.tests.filter((x) => x.name.startsWith("weighted")).map((x) => [x.score, x.max_score]), [[3, 3], [0, 9]], "the formats give each test its weighted points");
});

t.test("every format carries an output failure like any other failed test, the expected text beside the printed one", async (t) => {
  const feedback = await submit(mutant("check-swapped-colours"));
  const gradescope = render("gradescope", feedback) as GradescopeResults;
  const entry = gradescope.tests.find((x) => x.name === "check: check-fine");
  t.equal(entry?.status, "failed");
  t.match(entry?.output, /Expected: printed: "\\x1b\[92mFine: 6\\x1b\[0m"\nReceived: printed: "\\x1b\[93mFine: 6\\x1b\[0m"/);
  const prairielearn = render("prairielearn", feedback) as PrairieLearnResults;
  if (!prairielearn.gradable) throw new Error("not gradable");
  // check is all-or-nothing: PrairieLearn shows it as one entry, its tests listed in the entry's output.
  t.match(prairielearn.tests.find((x) => x.name === "check")?.output, /\[FAILED\] check-fine: [^]*Expected: printed: "\\x1b\[92mFine: 6/);
  const xqueue = render("xqueue", feedback) as XqueueResult;
  t.match(xqueue.msg, /check-fine \(failed\)[^]*Expected: printed: &quot;\\x1b\[92mFine: 6/);
  const coursera = render("coursera", feedback) as CourseraResult;
  t.match(coursera.feedback, /\[FAILED\] check-fine: Print the message for the value, in its colour[^]*Received: printed: "\\x1b\[93mFine: 6/);
  t.notMatch(JSON.stringify([gradescope, prairielearn, xqueue, coursera]), /Too big: 10\b/, "no format shows a hidden case's text");
});
