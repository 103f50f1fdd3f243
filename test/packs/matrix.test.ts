import t from "tap";
import path from "node:path";
import { readPackDir } from "../../src/packs/pack-files.js";
import { caseMatrix, formatMatrix } from "../../src/packs/matrix.js";
import { preparePack } from "../../src/packs/self-test.js";
import { poolOptions, SandboxPool } from "../../src/sandbox/pool.js";
import { validator, schemas } from "../../src/schemas.js";
import { root, testConfig } from "../helpers/app.js";

const config = testConfig();
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const pool = new SandboxPool({ ...poolOptions(config, silent), maxGradings: 100, queueLength: 256 });
t.teardown(() => pool.close());

async function prepared(dir: string) {
  const result = await preparePack(await readPackDir(dir), path.basename(dir), config.limits, { pool, resultMaxDepth: config.resultMaxDepth, concurrency: 2, budget: config.budget });
  if (result.gradable === undefined || result.selfTest === undefined) throw new Error(`${dir} does not prepare: ${JSON.stringify(result.problems)}`);
  return { gradable: result.gradable, selfTest: result.selfTest };
}

for (const id of ["gradient-checking", "activations"]) {
  t.test(`the matrix of the bundled ${id} pack catches every mutant, and its counts agree with the self-test's own results`, async (t) => {
    const { gradable, selfTest } = await prepared(path.join(root, "graders", id));
    const matrix = caseMatrix(gradable, selfTest);
    t.ok(validator(schemas.caseMatrix)(matrix), "the matrix has the shape of case-matrix.schema.json");
    t.equal(matrix.assignmentVersion, gradable.pack.hash);
    t.equal(matrix.summary.mutants, selfTest.mutants.length);
    t.equal(matrix.summary.caught, selfTest.mutants.length, "every mutant is caught");
    t.equal(matrix.summary.cases, gradable.pack.cases.length);

    // Counted again from the self-test's report alone: for each case, the mutants whose failed cases name it.
    for (const row of matrix.cases) {
      const catching = selfTest.mutants.filter((m) => m.failedCases.includes(row.id));
      t.same(row.catches, catching.map((m) => m.id), `${row.id}: the mutants it catches`);
      t.same(row.onlyCatcherOf, catching.filter((m) => m.failedCases.length === 1).map((m) => m.id), `${row.id}: the mutants only it catches`);
      t.equal(row.redundant, catching.every((m) => m.failedCases.some((other) => other !== row.id)), `${row.id}: redundant candidate or not`);
    }
    const fragile = selfTest.mutants.filter((m) => m.failedCases.length === 1).map((m) => m.id);
    t.same(matrix.mutants.filter((m) => m.fragile).map((m) => m.id), fragile, "fragile mutants: those one case catches");
    t.equal(matrix.summary.fragile, fragile.length);
    const cells = matrix.cases.reduce((sum, c) => sum + c.catches.length, 0);
    t.equal(cells, selfTest.mutants.reduce((sum, m) => sum + m.failedCases.length, 0), "as many caught cells by case as by mutant");

    // Costs and budgets: the budget is the clamped factor times the cost.
    for (const row of matrix.cases) {
      t.ok(row.costMs > 0, `${row.id} costs the reference some CPU time`);
      t.ok(row.budgetMs >= config.budget.minMs && row.budgetMs <= config.limits.callTimeoutMs, `${row.id}: its budget is within BUDGET_MIN_MS … CALL_TIMEOUT_MS`);
      t.equal(row.budgetMs, gradable.budgets?.cases.get(row.id));
    }
    t.equal(matrix.budget.totalMs, Math.min(config.limits.submissionWallMs, matrix.cases.reduce((sum, c) => sum + c.budgetMs, 0) + matrix.budget.loadMs));
    const printed = formatMatrix(matrix);
    t.match(printed, new RegExp(`${matrix.summary.cases} cases × ${matrix.summary.mutants} mutants, ${matrix.summary.mutants} caught`));
    for (const row of matrix.cases) t.match(printed, new RegExp(`^${row.id} `, "m"), `the table has a row for ${row.id}`);
  });
}

t.test("a case that catches only what other cases catch too is flagged redundant, and a mutant only one case catches is fragile", async (t) => {
  const { gradable, selfTest } = await prepared(path.join(root, "test", "fixtures", "packs", "redundant"));
  const matrix = caseMatrix(gradable, selfTest);
  t.same(matrix.cases.filter((c) => c.redundant).map((c) => c.id), ["add-both-positive"]);
  t.same(matrix.cases.find((c) => c.id === "add-both-positive")?.catches, ["ignores-b"], "it does catch a mutant, just not one of its own");
  t.same(matrix.mutants.filter((m) => m.fragile).map((m) => [m.id, m.caughtBy]), [["absolute-a", ["add-negative"]], ["zero-for-one", ["add-small"]]]);
  t.same(matrix.summary, { cases: 3, mutants: 3, caught: 3, redundant: 1, fragile: 2 });
  t.match(formatMatrix(matrix), /^add-both-positive\s+hidden\s.*redundant\?$/m);
});

t.test("a correct variant's margin on each case is its budget over the variant's CPU time", async (t) => {
  const { gradable, selfTest } = await prepared(path.join(root, "test", "fixtures", "packs", "redundant"));
  const cpuMs = new Map([["add-small", 2], ["add-negative", 100], ["add-both-positive", 0.5]]);
  const matrix = caseMatrix(gradable, selfTest, [{ name: "slow.mjs", score: 10, maxScore: 10, cpuMs }]);
  for (const row of matrix.cases) {
    t.equal(row.slowestVariant?.margin, Math.round((row.budgetMs / (cpuMs.get(row.id) as number)) * 100) / 100, row.id);
  }
  t.equal(matrix.summary.minMargin, Math.min(...matrix.cases.map((c) => c.slowestVariant?.margin ?? Infinity)));
  t.same(matrix.variants?.map((v) => [v.name, v.minMargin]), [["slow.mjs", matrix.summary.minMargin]]);
});
