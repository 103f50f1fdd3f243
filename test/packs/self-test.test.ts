import t from "tap";
import path from "node:path";
import { readPackDir } from "../../src/packs/pack-files.js";
import type { PackFiles } from "../../src/packs/types.js";
import { formatProblem } from "../../src/packs/problems.js";
import { preparePack } from "../../src/packs/self-test.js";
import { poolOptions, SandboxPool } from "../../src/sandbox/pool.js";
import { root, testConfig } from "../helpers/app.js";

const config = testConfig();
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const pool = new SandboxPool({ ...poolOptions(config, silent), maxGradings: 100, queueLength: 256 });
t.teardown(() => pool.close());
const original = await readPackDir(path.join(root, "graders", "gradient-checking"));

async function prepare(files: PackFiles) {
  return preparePack(files, "gradient-checking", config.limits, { pool, resultMaxDepth: config.resultMaxDepth, concurrency: 2 });
}

function edited(edit: (files: PackFiles) => void): PackFiles {
  const files = new Map(original);
  edit(files);
  return files;
}

function setJson(files: PackFiles, file: string, edit: (data: Record<string, any>) => void): void {
  const data = JSON.parse(files.get(file) as string) as Record<string, any>;
  edit(data);
  files.set(file, JSON.stringify(data));
}

t.test("the bundled pack passes its self-test: reference, every mutant, starter", async (t) => {
  const prepared = await prepare(original);
  t.same(prepared.problems, []);
  t.equal(prepared.selfTest?.reference.passed, prepared.selfTest?.reference.total);
  t.ok(prepared.selfTest?.mutants.every((m) => m.failedCases.length > 0));
  t.equal(prepared.selfTest?.starter.loaded, true);
});

t.test("a wrong expected value is caught by the reference run, naming the case", async (t) => {
  const prepared = await prepare(edited((f) => setJson(f, "cases/gradient-check-large-theta.json", (c) => { c.expect.value = 0.00019; })));
  t.equal(prepared.gradable, undefined, "the pack does not go live");
  t.same(prepared.problems.map(formatProblem), [
    "cases/gradient-check-large-theta.json /expect: the reference solution fails this case: received 0.00019025447957490783",
  ]);
});

t.test("a mutant that passes every case is caught", async (t) => {
  const prepared = await prepare(edited((f) => {
    f.set("mutants/harmless.mjs", `// MUTANT: not actually wrong.\n${f.get("reference/solution.mjs")}`);
    setJson(f, "assignment.json", (a) => { a.mutants.push({ file: "mutants/harmless.mjs", description: "a renamed reference" }); });
  }));
  t.same(prepared.problems.map(formatProblem), ["mutants/harmless.mjs: passes every case, so the cases do not catch this mistake: a renamed reference"]);
});

t.test("a replacement mutant is made from the reference and caught by the cases; an unchanged one is not", async (t) => {
  const prepared = await prepare(edited((f) => setJson(f, "assignment.json", (a) => {
    a.mutants.push({ id: "forward-adds", description: "adds instead of multiplying", from: "reference/solution.mjs", replace: [{ find: "const J = theta * x;", with: "const J = theta + x;" }], mustFail: ["forward_propagation"] });
  })));
  t.same(prepared.problems, []);
  const report = prepared.selfTest?.mutants.find((m) => m.id === "forward-adds");
  t.match(report, { id: "forward-adds", from: "reference/solution.mjs", description: "adds instead of multiplying" });
  // gradient_check calls the module's own forward_propagation, so it fails too.
  t.equal(report?.score, 50);
  for (const id of ["forward-notebook", "forward-inexact-decimals", "forward-negative-x"]) t.ok(report?.failedCases.includes(id), `fails ${id}`);

  const unchanged = await prepare(edited((f) => setJson(f, "assignment.json", (a) => {
    a.mutants.push({ id: "same", from: "reference/solution.mjs", replace: [{ find: "const J = theta * x;", with: "const J = x * theta;" }] });
  })));
  const index = JSON.parse(original.get("assignment.json") as string).mutants.length;
  t.same(unchanged.problems.map(formatProblem), [`assignment.json /mutants/${index}: mutant 'same' passes every case, so the cases do not catch this mistake: same`]);
});

t.test("a mutant that escapes the exercise it must fail is caught, even if it fails elsewhere", async (t) => {
  const prepared = await prepare(edited((f) => {
    for (const name of [...f.keys()]) if (/^cases\/forward-(negative|inexact)/.test(name)) f.delete(name);
  }));
  t.match(prepared.problems.map(formatProblem), ["assignment.json /mutants/0: mutant 'hardcoded-forward' passes every case of forward_propagation, which it must fail: forward_propagation returns the notebook's 8 whatever its arguments"]);
});

t.test("a hidden case removed makes a known-wrong solution slip through, and validation says which", async (t) => {
  const prepared = await prepare(edited((f) => {
    for (const name of [...f.keys()]) if (name.startsWith("cases/gradient-check-n-") && name !== "cases/gradient-check-n-notebook.json") f.delete(name);
  }));
  t.match(prepared.problems.map(formatProblem).join("\n"), /assignment\.json \/mutants\/3: mutant 'hardcoded-gradient-check-n' passes every case/);
});

t.test("a starter that does not load is caught", async (t) => {
  const prepared = await prepare(edited((f) => f.set("starter/solution.mjs", "export function forward_propagation(x, theta) {\n  return theta *\n")));
  t.match(prepared.problems.map(formatProblem), [/^starter\/solution\.mjs: does not load: SyntaxError/]);
});

t.test("a reference that throws makes the pack invalid, pointing at the cases it could not answer", async (t) => {
  const prepared = await prepare(edited((f) => f.set("reference/solution.mjs", (f.get("reference/solution.mjs") as string).replace("const dtheta = x;", 'const dtheta = x; if (x < 0) throw new Error("negative");'))));
  t.match(prepared.problems.map(formatProblem), [/^cases\/backward-negative-x\.json: the reference solution does not return a value here/]);
});

t.test("a case that expects the reference's value gets it when the pack loads", async (t) => {
  const prepared = await prepare(edited((f) => setJson(f, "cases/gradient-check-small-x.json", (c) => { c.expect = { type: "number", reference: true, rtol: 1e-12 }; })));
  t.same(prepared.problems, []);
  t.equal(prepared.gradable?.referenceValues.get("gradient-check-small-x"), 2.969412910012117e-12);
});
