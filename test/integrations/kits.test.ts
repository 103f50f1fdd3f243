import t from "tap";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { SqliteKeyStore } from "../../src/auth/sqlite-keys.js";
import { buildApp, root, tempDataDir } from "../helpers/app.js";
import { packFile, packMutant } from "../helpers/files.js";
import { formatValidator } from "../formats/support.js";
import { buildGradescopeKit } from "../../scripts/kit-gradescope.js";
import { deadUrl, installKit, recordingProxy, run, tempDir } from "./support.js";

// The kits send an API key: real keys of this gradebox (a made-up one is refused 401 unauthorized).
const dataDir = tempDataDir();
const app = await buildApp({ DATA_DIR: dataDir });
const keyStore = new SqliteKeyStore(dataDir);
const newKey = (name: string): string => keyStore.create({ name, scopes: ["submit", "read"] }).secret;
const testKey = newKey("kits");
const zipKey = newKey("gradescope-zip");
const envKey = newKey("gradescope-env");
keyStore.close();
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
if (address === null || typeof address === "string") throw new Error("not listening");
const gradebox = `http://127.0.0.1:${address.port}`;
const proxy = await recordingProxy(gradebox);
t.teardown(async () => {
  await proxy.close();
  await app.close();
});

const reference = packFile("reference/solution.mjs");
const failsOnlyHidden = packMutant("hardcoded-gradient-check-n");
const common = { GRADEBOX_ASSIGNMENT: "gradient-checking", GRADEBOX_API_KEY: testKey, GRADEBOX_ATTEMPTS: "2", GRADEBOX_TIMEOUT_MS: "60000" };

/**
 * What Gradescope's specification (gradescope-autograders.readthedocs.io/en/latest/specs/) asks of
 * results.json, independent of gradebox's own schema: why a value is not a results.json, or undefined.
 */
function gradescopeSpecProblem(results: Record<string, unknown>): string | undefined {
  const visibility = ["visible", "hidden", "after_due_date", "after_published"];
  if (typeof results.score !== "number" && !Array.isArray(results.tests)) return "neither score nor tests";
  if (results.score !== undefined && typeof results.score !== "number") return "score is not a number";
  if (results.output !== undefined && typeof results.output !== "string") return "output is not a string";
  if (results.visibility !== undefined && !visibility.includes(results.visibility as string)) return "bad visibility";
  for (const test of (results.tests ?? []) as Array<Record<string, unknown>>) {
    if (results.score === undefined && typeof test.score !== "number") return "a test without score while results has none";
    for (const key of ["score", "max_score"]) if (test[key] !== undefined && typeof test[key] !== "number") return `a test's ${key} is not a number`;
    for (const key of ["name", "output", "number"]) if (test[key] !== undefined && typeof test[key] !== "string") return `a test's ${key} is not a string`;
    if (test.status !== undefined && test.status !== "passed" && test.status !== "failed") return "a test's status is neither passed nor failed";
    if (test.visibility !== undefined && !visibility.includes(test.visibility as string)) return "a test's bad visibility";
  }
  return undefined;
}

t.test("Gradescope: the zip holds setup.sh and run_autograder at its root, and run_autograder writes a results.json Gradescope reads", async (t) => {
  const dir = tempDir(t, "gradescope");
  const zip = buildGradescopeKit(path.join(dir, "kit.zip"), { GRADEBOX_URL: proxy.url, GRADEBOX_ASSIGNMENT: "gradient-checking", GRADEBOX_API_KEY: zipKey });
  const listing = await run("unzip", ["-Z1", zip], {});
  t.same(listing.stdout.trim().split("\n").sort(), ["gradebox-client.mjs", "gradebox.env", "gradescope.mjs", "run_autograder", "setup.sh"]);
  // Gradescope unzips the kit into /autograder/source, copies run_autograder to /autograder/ and the
  // student's files into /autograder/submission/.
  const autograder = path.join(dir, "autograder");
  mkdirSync(path.join(autograder, "submission"), { recursive: true });
  t.equal((await run("unzip", ["-q", zip, "-d", path.join(autograder, "source")], {})).code, 0);
  writeFileSync(path.join(autograder, "run_autograder"), readFileSync(path.join(autograder, "source", "run_autograder")), { mode: 0o755 });
  writeFileSync(path.join(autograder, "submission", "gc.mjs"), failsOnlyHidden);

  const done = await run("bash", [path.join(autograder, "run_autograder")], { GRADEBOX_AUTOGRADER_DIR: autograder });
  t.equal(done.code, 0, done.stderr);
  const results = JSON.parse(readFileSync(path.join(autograder, "results", "results.json"), "utf8")) as Record<string, unknown> & { tests: Array<{ score: number }> };
  t.equal(gradescopeSpecProblem(results), undefined, "results.json follows Gradescope's specification");
  const validate = formatValidator("gradescope");
  t.ok(validate(results), `and gradebox's schema of it ${JSON.stringify(validate.errors)}`);
  t.equal(results.score, 75);
  t.equal(Math.round(results.tests.reduce((sum, test) => sum + test.score, 0)), 75, "the tests' scores add up to the score");
  t.equal(proxy.authorizations.at(-1), `Bearer ${zipKey}`, "the API key from gradebox.env is sent as a bearer token");

  const fromEnv = await run("bash", [path.join(autograder, "run_autograder")], { GRADEBOX_AUTOGRADER_DIR: autograder, GRADEBOX_API_KEY: envKey });
  t.equal(fromEnv.code, 0);
  t.equal(proxy.authorizations.at(-1), `Bearer ${envKey}`, "the environment wins over gradebox.env");
});

t.test("Gradescope: when gradebox is unreachable, results.json scores 0, tells the student to resubmit and is marked as a grader failure", async (t) => {
  const autograder = tempDir(t, "gradescope-down");
  mkdirSync(path.join(autograder, "submission"), { recursive: true });
  writeFileSync(path.join(autograder, "submission", "gc.mjs"), reference);
  mkdirSync(path.join(autograder, "source"));
  const kit = path.join(autograder, "source");
  for (const [from, to] of [["gradescope/gradescope.mjs", "gradescope.mjs"], ["common/gradebox-client.mjs", "gradebox-client.mjs"]] as const) {
    writeFileSync(path.join(kit, to), readFileSync(path.join(root, "integrations", from)));
  }
  const done = await run("bash", [path.join(root, "integrations", "gradescope", "run_autograder")], { ...common, GRADEBOX_AUTOGRADER_DIR: autograder, GRADEBOX_URL: await deadUrl() });
  t.not(done.code, 0, "the script says it failed");
  const results = JSON.parse(readFileSync(path.join(autograder, "results", "results.json"), "utf8")) as Record<string, unknown> & { extra_data: { gradebox: { graderFailure: boolean } } };
  t.equal(gradescopeSpecProblem(results), undefined, "results.json still follows Gradescope's specification");
  t.equal(results.score, 0);
  t.match(results.output, /Please resubmit/);
  t.match(results.output, /this 0 is not your score/);
  t.equal(results.extra_data.gradebox.graderFailure, true);
});

t.test("PrairieLearn: the entrypoint reads /grade/data/data.json and /grade/student/ and writes /grade/results/results.json", async (t) => {
  const grade = tempDir(t, "prairielearn");
  const script = installKit("prairielearn", path.join(grade, ".kit"));
  mkdirSync(path.join(grade, "student"), { recursive: true });
  mkdirSync(path.join(grade, "data"), { recursive: true });
  writeFileSync(path.join(grade, "student", "solution.mjs"), failsOnlyHidden);
  // The question names its assignment in its params; the environment's would be wrong.
  writeFileSync(path.join(grade, "data", "data.json"), JSON.stringify({ params: { gradebox_assignment: "gradient-checking" }, submitted_answers: {} }));
  const done = await run(process.execPath, [script], { ...common, GRADEBOX_ASSIGNMENT: "no-such-assignment", GRADEBOX_GRADE_DIR: grade, GRADEBOX_URL: proxy.url });
  t.equal(done.code, 0, done.stderr);
  const file = path.join(grade, "results", "results.json");
  t.ok(statSync(file).size < 1024 * 1024, "under PrairieLearn's 1 MB limit");
  const results = JSON.parse(readFileSync(file, "utf8")) as { gradable: boolean; score: number };
  const validate = formatValidator("prairielearn");
  t.ok(validate(results), `results.json follows PrairieLearn's grading-results format ${JSON.stringify(validate.errors)}`);
  t.equal(results.gradable, true);
  t.equal(results.score, 0.75);
  t.equal(proxy.authorizations.at(-1), `Bearer ${testKey}`);
});

t.test("PrairieLearn: when gradebox is unreachable the submission is not gradable, so no attempt is used, and the student is told to resubmit", async (t) => {
  const grade = tempDir(t, "prairielearn-down");
  const script = installKit("prairielearn", path.join(grade, ".kit"));
  mkdirSync(path.join(grade, "student"), { recursive: true });
  writeFileSync(path.join(grade, "student", "solution.mjs"), reference);
  const done = await run(process.execPath, [script], { ...common, GRADEBOX_GRADE_DIR: grade, GRADEBOX_URL: await deadUrl() });
  t.equal(done.code, 0);
  const results = JSON.parse(readFileSync(path.join(grade, "results", "results.json"), "utf8")) as { gradable: boolean; message: string };
  t.ok(formatValidator("prairielearn")(results));
  t.equal(results.gradable, false);
  t.match(results.message, /no attempt was used\. Please resubmit/);
});

t.test("Coursera: the grader reads /shared/submission/ and writes /shared/feedback.json with fractionalScore and feedback", async (t) => {
  const shared = tempDir(t, "coursera");
  const script = installKit("coursera", path.join(shared, ".kit"));
  mkdirSync(path.join(shared, "submission"), { recursive: true });
  writeFileSync(path.join(shared, "submission", "gradient_checking.mjs"), failsOnlyHidden);
  const done = await run(process.execPath, [script], {
    ...common,
    GRADEBOX_ASSIGNMENT: "no-such-assignment",
    GRADEBOX_PARTS: JSON.stringify({ Xq3Pt: "gradient-checking" }),
    partId: "Xq3Pt",
    GRADEBOX_SHARED_DIR: shared,
    GRADEBOX_URL: proxy.url,
  });
  t.equal(done.code, 0, done.stderr);
  const text = readFileSync(path.join(shared, "feedback.json"), "utf8");
  t.ok(Buffer.byteLength(text) <= 64_000, "within Coursera's 64 KB");
  const feedback = JSON.parse(text) as { fractionalScore: number; feedback: string };
  const validate = formatValidator("coursera");
  t.ok(validate(feedback), `feedback.json has Coursera's fields and no other ${JSON.stringify(validate.errors)}`);
  t.equal(feedback.fractionalScore, 0.75);
  t.match(feedback.feedback, /^All 5 public tests passed, but 7 of 20 hidden tests failed/);
});

t.test("Coursera: an unreachable gradebox gives feedback telling the learner to resubmit", async (t) => {
  const shared = tempDir(t, "coursera-down");
  const script = installKit("coursera", path.join(shared, ".kit"));
  mkdirSync(path.join(shared, "submission"), { recursive: true });
  writeFileSync(path.join(shared, "submission", "a.mjs"), reference);
  await run(process.execPath, [script], { ...common, GRADEBOX_SHARED_DIR: shared, GRADEBOX_URL: await deadUrl() });
  const feedback = JSON.parse(readFileSync(path.join(shared, "feedback.json"), "utf8")) as { fractionalScore: number; feedback: string };
  t.ok(formatValidator("coursera")(feedback));
  t.equal(feedback.fractionalScore, 0);
  t.match(feedback.feedback, /Please resubmit/);
});

t.test("a kit refuses to guess between two submitted modules", async (t) => {
  const shared = tempDir(t, "coursera-two");
  const script = installKit("coursera", path.join(shared, ".kit"));
  mkdirSync(path.join(shared, "submission"), { recursive: true });
  writeFileSync(path.join(shared, "submission", "a.mjs"), reference);
  writeFileSync(path.join(shared, "submission", "b.mjs"), reference);
  await run(process.execPath, [script], { ...common, GRADEBOX_SHARED_DIR: shared, GRADEBOX_URL: proxy.url });
  const feedback = JSON.parse(readFileSync(path.join(shared, "feedback.json"), "utf8")) as { fractionalScore: number; feedback: string };
  t.equal(feedback.fractionalScore, 0);
  t.equal(feedback.feedback, "Submit one module only; found: a.mjs, b.mjs.");
});
