import t from "tap";
import { readdirSync } from "node:fs";
import path from "node:path";
import { root } from "../helpers/app.js";
import { readRepoFile } from "../helpers/files.js";
import { FORMATS, render, withHiddenHints, type FormatInput } from "../../src/formats/index.js";
import { computeSummary, escapeHtml, plain, summaryOf } from "../../src/formats/common.js";
import type { CourseraResult } from "../../src/formats/coursera.js";
import type { GradescopeResults } from "../../src/formats/gradescope.js";
import type { PrairieLearnResults } from "../../src/formats/prairielearn.js";
import type { XqueueResult } from "../../src/formats/xqueue.js";
import { schemas } from "../../src/schemas.js";
import { claimsAllPassed, formatValidator, xmlProblem } from "./support.js";

type Status = "passed" | "failed" | "error";

/** A small native feedback: one exercise per entry, public tests then hidden ones, by status. */
function feedback(exercises: Array<{ name: string; public: Status[]; hidden: Status[]; scoring?: "all-or-nothing" | "proportional" }>, extra: Partial<FormatInput> = {}): FormatInput {
  const built = exercises.map((e) => {
    const tests = [
      ...e.public.map((status, i) => ({ id: `${e.name}-case-${i + 1}`, visibility: "public" as const, status, message: status === "passed" ? "Passed." : "Wrong value: received 1." })),
      ...e.hidden.map((status, i) => ({ id: `${e.name}-hidden-${i + 1}`, visibility: "hidden" as const, status, message: status === "passed" ? "Passed." : "Hidden test failed." })),
    ];
    const passedCount = tests.filter((x) => x.status === "passed").length;
    const scoring = e.scoring ?? "all-or-nothing";
    const passed = passedCount === tests.length;
    return { name: e.name, score: scoring === "all-or-nothing" ? (passed ? 10 : 0) : Math.round((1000 * passedCount) / tests.length) / 100, maxScore: 10, passed, scoring, tests };
  });
  return {
    id: "00000000-0000-4000-8000-000000000000",
    assignment: "demo",
    assignmentVersion: "0123456789abcdef",
    status: "graded",
    score: built.reduce((s, e) => s + e.score, 0),
    maxScore: built.length * 10,
    exercises: built,
    output: "",
    outputTruncated: false,
    durationMs: 1500,
    ...extra,
  };
}

t.test("FORMATS lists native first, and the request schema's format enum lists the same formats", async (t) => {
  t.same([...FORMATS], ["native", "gradescope", "prairielearn", "xqueue", "coursera"]);
  const property = (schemas.submissionRequest.properties as Record<string, { enum: string[]; description: string }>).format;
  t.same(property?.enum, [...FORMATS]);
  t.type(property?.description, "string");
});

t.test("each format's schema is draft-07 with a gradebox $id, a description on every field and no unlisted fields", async (t) => {
  const files = readdirSync(path.join(root, "submissions-schema", "formats")).sort();
  t.same(files, FORMATS.filter((f) => f !== "native").map((f) => `${f}.schema.json`).sort(), "one schema per format");
  for (const format of FORMATS) {
    if (format === "native") continue;
    const schema = JSON.parse(readRepoFile("submissions-schema", "formats", `${format}.schema.json`)) as Record<string, unknown>;
    t.equal(schema.$schema, "http://json-schema.org/draft-07/schema#", format);
    t.equal(schema.$id, `https://gradebox.dev/schemas/formats/${format}.schema.json`);
    const walk = (node: unknown, where: string): void => {
      if (typeof node !== "object" || node === null) return;
      const object = node as Record<string, unknown>;
      if (object.type === "object" && object.properties !== undefined) {
        t.equal(object.additionalProperties, false, `${format}${where} lists its fields`);
      }
      for (const [name, child] of Object.entries((object.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        t.type(child.description, "string", `${format}${where}/${name} has a description`);
        walk(child, `${where}/${name}`);
      }
      if (object.items !== undefined) walk(object.items, `${where}[]`);
      for (const key of ["definitions", "oneOf"]) {
        const nested = object[key];
        if (nested !== undefined) for (const [name, child] of Object.entries(nested as Record<string, unknown>)) walk(child, `${where}#${key}/${name}`);
      }
    };
    walk(schema, "");
  }
});

t.test("a computed summary says how many public and hidden tests failed, and all passed only when they did", async (t) => {
  const cases: Array<[Parameters<typeof feedback>[0], string]> = [
    [[{ name: "f", public: ["passed"], hidden: ["passed", "passed"] }], "All tests passed."],
    [[{ name: "f", public: ["passed"], hidden: ["failed", "passed"] }], "The public test passed, but 1 of 2 hidden tests failed (in f)."],
    [[{ name: "f", public: ["passed", "passed"], hidden: ["failed", "error"] }], "All 2 public tests passed, but 2 of 2 hidden tests failed (in f)."],
    [[{ name: "f", public: ["failed", "passed"], hidden: ["passed"] }], "1 of 2 public tests failed (in f); the hidden test passed."],
    [[{ name: "f", public: ["failed", "error"], hidden: ["failed", "passed"] }], "2 of 2 public tests failed (in f); and 1 of 2 hidden tests failed (in f)."],
    [[{ name: "f", public: ["failed", "passed"], hidden: [] }], "1 of 2 public tests failed (in f)."],
    [[], "No tests ran."],
  ];
  for (const [exercises, expected] of cases) t.equal(computeSummary(feedback(exercises)), expected);
  const rejected = feedback([{ name: "f", public: ["error"], hidden: ["error"] }], { status: "rejected", reason: { code: "syntax_error", errorKind: "syntax_error", message: "SyntaxError: x", line: 1, column: 2 } });
  t.equal(computeSummary(rejected), "Not graded: the module could not be loaded (syntax_error).");
});

t.test("the feedback's own summary is used when present, unless it claims all tests passed while one failed", async (t) => {
  const hiddenFails = feedback([{ name: "f", public: ["passed"], hidden: ["failed"] }]);
  t.equal(summaryOf({ ...hiddenFails, summary: "All public tests passed, but 1 hidden test failed (f)." }), "All public tests passed, but 1 hidden test failed (f).");
  t.equal(summaryOf({ ...hiddenFails, summary: "All tests passed." }), "The public test passed, but 1 of 1 hidden test failed (in f).");
  t.equal(summaryOf({ ...hiddenFails, summary: "  " }), "The public test passed, but 1 of 1 hidden test failed (in f).");
  for (const format of FORMATS.filter((f) => f !== "native")) {
    t.notOk(claimsAllPassed(JSON.stringify(render(format, { ...hiddenFails, summary: "All tests passed." }))), `${format} does not repeat a misleading summary`);
  }
  const allPass = feedback([{ name: "f", public: ["passed"], hidden: ["passed"] }]);
  t.equal(summaryOf({ ...allPass, summary: "All tests passed." }), "All tests passed.");
});

t.test("every format renders the same grading with consistent scores, and validates against its schema", async (t) => {
  // f: public passes, one hidden fails (all-or-nothing: 0 of 10); g: proportional, 2 of 3 pass (6.67 of 10).
  const input = feedback([
    { name: "f", public: ["passed"], hidden: ["failed", "passed"] },
    { name: "g", public: ["passed", "failed"], hidden: ["passed"], scoring: "proportional" },
  ]);
  t.equal(input.score, 6.67);
  const gradescope = render("gradescope", input) as GradescopeResults;
  t.equal(gradescope.score, 6.67);
  t.notOk("execution_time" in gradescope, "no running time: a submission could make it depend on a hidden argument");
  t.same(gradescope.tests.map((x) => [x.name, x.status, x.score, x.max_score]), [
    ["f: f-case-1", "passed", 0, 3.3333],
    ["f (hidden test 1)", "failed", 0, 3.3333],
    ["f (hidden test 2)", "passed", 0, 3.3333],
    ["g: g-case-1", "passed", 3.3333, 3.3333],
    ["g: g-case-2", "failed", 0, 3.3333],
    ["g (hidden test 1)", "passed", 3.3333, 3.3333],
  ]);
  const prairielearn = render("prairielearn", input) as PrairieLearnResults;
  t.equal(prairielearn.gradable && prairielearn.score, 0.3335);
  const xqueue = render("xqueue", input) as XqueueResult;
  t.same([xqueue.correct, xqueue.score], [false, 0.3335]);
  const coursera = render("coursera", input) as CourseraResult;
  t.equal(coursera.fractionalScore, 0.3335);
  for (const format of FORMATS.filter((f) => f !== "native")) {
    const validate = formatValidator(format);
    t.ok(validate(render(format, input)), `${format} is valid ${JSON.stringify(validate.errors)}`);
  }
  t.equal(render("native", input), input, "native is the feedback itself");
});

t.test("a failed hidden test shows its exercise's own hint in every format, and the default hint without one", async (t) => {
  const input = withHiddenHints(feedback([{ name: "f", public: ["passed"], hidden: ["failed"] }, { name: "g", public: ["passed"], hidden: ["failed"] }]), [
    { name: "f", hiddenHint: "Multiply, do not add." },
    { name: "g" },
  ]);
  for (const format of FORMATS.filter((f) => f !== "native")) {
    const text = JSON.stringify(render(format, input));
    t.match(text, /Hidden test 1 of f failed\. Multiply, do not add\./, `${format} shows f's hint`);
    t.match(text, /Hidden test 1 of g failed\. Hidden tests call the function with other arguments/, `${format} shows the default hint for g`);
  }
});

t.test("text is made plain (no ANSI, no control characters) and HTML-escaped where a format needs HTML", async (t) => {
  t.equal(plain("\u001b[92mgreen\u001b[0m\r\nbell\u0007 tab\tnul\u0000 \ud800"), "green\nbell tab\tnul \uFFFD");
  t.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  const input = feedback([{ name: "f<script>", public: ["failed"], hidden: ["failed"] }], { output: "<b>\u001b[31mhi\u001b[0m</b> & </div>\n[output truncated: over the 64 KiB limit]\n", outputTruncated: true });
  const msg = (render("xqueue", input) as XqueueResult).msg;
  t.equal(xmlProblem(msg), undefined, "well-formed XML");
  t.notMatch(msg, /<script|<b>/);
  t.match(msg, /<pre>&lt;b&gt;hi&lt;\/b&gt; &amp; &lt;\/div&gt;\n\[output truncated: over the 64 KiB limit\]<\/pre>/);
});

t.test("the README shows a curl example for every format", async (t) => {
  const readme = readRepoFile("README.md");
  for (const format of FORMATS.filter((f) => f !== "native")) {
    t.match(readme, new RegExp(`curl -s 'localhost:3000/v1/submissions\\?format=${format}'`), `${format} has a curl example`);
  }
});
