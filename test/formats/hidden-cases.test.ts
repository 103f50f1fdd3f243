import t from "tap";
import request from "supertest";
import { buildApp, fastLimits } from "../helpers/app.js";
import { fixture, packMutants } from "../helpers/files.js";
import { FORMATS, render } from "../../src/formats/index.js";
import type { Feedback } from "../../src/grading/feedback.js";
import { cases, claimsAllPassed, hiddenOnlyNumbers, hiddenWords, leaks, reference } from "./support.js";

const app = await buildApp({ ...fastLimits });
t.teardown(() => app.close());

const secrets = { numbers: hiddenOnlyNumbers(), words: hiddenWords() };

t.test("the secrets looked for are the hidden cases' own: their distinctive arguments, expected values and ids", async (t) => {
  t.ok(secrets.numbers.length > 100, `${secrets.numbers.length} numbers appear only in hidden cases`);
  for (const n of ["250000000", "1000000", "0.125", "-3.375", "0.06999999999999999", "0.00019025447957490783", "2.3126083169978153e-8", "0.4525197382165973", "1.9100422250289793e-10", "6.447604355140101e-12", "-1.8125"]) {
    t.ok(secrets.numbers.includes(n), `${n} is looked for`);
  }
  for (const n of ["2.919335883291695e-10", "7.814075313343006e-11", "0.2850931567761623", "1.1890913024229996e-7", "1e-7"]) {
    t.notOk(secrets.numbers.includes(n), `${n} is not: a public case has it too`);
  }
  t.ok(secrets.words.includes("gradient-check-n-seed2-m5"), "hidden case ids are looked for");
  const hiddenCase = cases.find((c) => c.id === "gradient-check-huge-theta");
  t.same(leaks(JSON.stringify(hiddenCase), secrets).length > 3, true, "the search finds them in a hidden case file");
  t.same(leaks("score 0.1250, 10.125, -2.55, 1e-70", secrets), [], "a number counts only as a whole token");
});

const submissions: Array<[string, string]> = [
  ...packMutants().map(({ id, source }): [string, string] => [`mutant ${id}`, source]),
  ["hostile/prints-and-throws-its-arguments.mjs", fixture("hostile/prints-and-throws-its-arguments.mjs")],
  ["hostile/records-arguments.mjs", fixture("hostile/records-arguments.mjs")],
  ["hostile/records-arguments.mjs, again", fixture("hostile/records-arguments.mjs")],
  ["reference with forward_propagation echoing its arguments", reference.replace("export function forward_propagation(x, theta) {", "export function forward_propagation(x, theta) {\n  console.log(x, theta, JSON.stringify([x, theta]));\n  if (x !== 2) throw new Error(`x=${x} theta=${theta}`);")],
];

t.test("no format shows a hidden case's arguments, expected values or id, for submissions that fail hidden tests", async (t) => {
  let failingHidden = 0;
  for (const [label, source] of submissions) {
    // Graded once (native), then replayed from the idempotency cache in every other format.
    const key = `hidden-cases ${label}`;
    const native = await request(app.server).post("/v1/submissions").set("idempotency-key", key).send({ assignment: "gradient-checking", source });
    t.equal(native.status, 200, label);
    const feedback = native.body as Feedback;
    const hiddenFailed = feedback.exercises.flatMap((e) => e.tests).filter((x) => x.visibility === "hidden" && x.status !== "passed").length;
    if (hiddenFailed > 0) failingHidden += 1;
    for (const format of FORMATS) {
      const response = format === "native"
        ? native
        : await request(app.server).post(`/v1/submissions?format=${format}`).set("idempotency-key", key).send({ assignment: "gradient-checking", source });
      t.equal(response.status, 200, `${label} as ${format}`);
      if (format !== "native") t.equal(response.headers["idempotent-replayed"], "true", `${label} as ${format} is the same grading`);
      const text = JSON.stringify(response.body);
      t.same(leaks(text, secrets), [], `${label} as ${format}: no hidden argument, expected value or case id`);
      if (hiddenFailed > 0) t.notOk(claimsAllPassed(text), `${label} as ${format}: does not say all tests passed`);
    }
  }
  t.ok(failingHidden >= submissions.length - 1, `${failingHidden} of ${submissions.length} submissions fail hidden tests`);
});

t.test("every format drops what a hidden test carries beyond its status, even if the native feedback had more", async (t) => {
  // A native feedback as a buggy grader might build it: a hidden test with its case's id, arguments,
  // expected value, the student's value, output and a case-specific hint.
  const hiddenCase = cases.find((c) => c.id === "gradient-check-large-theta");
  if (hiddenCase === undefined) throw new Error("the pack has changed");
  const secret = `${JSON.stringify(hiddenCase.args)} ${JSON.stringify(hiddenCase.expect)}`;
  const feedback: Feedback & { summary: string } = {
    id: "00000000-0000-4000-8000-000000000000",
    assignment: "gradient-checking",
    assignmentVersion: "0123456789abcdef",
    language: "javascript",
    status: "graded",
    score: 0,
    maxScore: 25,
    exercises: [{
      name: "gradient_check",
      score: 0,
      maxScore: 25,
      passed: false,
      scoring: "all-or-nothing",
      tests: [{
        id: hiddenCase.id,
        visibility: "hidden",
        status: "failed",
        message: `Wrong value for ${secret}`,
        description: hiddenCase.description ?? "",
        expected: secret,
        received: secret,
        output: secret,
        hint: `Try ${secret}`,
      } as Feedback["exercises"][number]["tests"][number]],
    }],
    output: "",
    outputTruncated: false,
    durationMs: 12,
    summary: "1 hidden test failed.",
  };
  t.ok(leaks(JSON.stringify(feedback), secrets).length > 3, "the planted feedback does carry the secrets");
  for (const format of FORMATS.filter((f) => f !== "native")) {
    const text = JSON.stringify(render(format, feedback));
    t.same(leaks(text, secrets), [], `${format} shows none of them`);
    t.notOk(text.includes(hiddenCase.id), `${format} does not name the case`);
    t.match(text, /Hidden test 1 of gradient_check failed\./, `${format} says which exercise's hidden test failed`);
  }
});
