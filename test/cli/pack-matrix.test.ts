import t from "tap";
import { run } from "./support.js";

t.test("gradebox-pack matrix prints a case × mutant table, the budgets, and the mutants by number", async (t) => {
  const { code, stdout } = await run(["matrix", "graders/activations"]);
  t.equal(code, 0, stdout);
  t.match(stdout, /^activations \(assignmentVersion [0-9a-f]{16}\): 23 cases × 11 mutants, 11 caught; /);
  t.match(stdout, /^budgets: 20 × the reference's median CPU time over 3 runs, at least 50 ms, at most 1000 ms; /m);
  t.match(stdout, /^case\s+cost ms\s+budget ms\s+12345678901$/m, "one column per mutant");
  t.match(stdout, /^relu-huge\s+hidden\s+\d+\.\d\d\s+\d+\s+[●◆·]{11}/m, "one row per case, hidden ones included");
  t.match(stdout, /^ 3  relu-uses-min \(80\/100\): \d+ cases$/m);
});

t.test("gradebox-pack matrix --json gives the same as data", async (t) => {
  const [text, json] = await Promise.all([run(["matrix", "test/fixtures/packs/redundant"]), run(["matrix", "test/fixtures/packs/redundant", "--json"])]);
  t.equal(json.code, 0, json.stderr);
  const matrix = JSON.parse(json.stdout);
  t.same(matrix.summary, { cases: 3, mutants: 3, caught: 3, redundant: 1, fragile: 2 });
  t.match(text.stdout, /3 cases × 3 mutants, 3 caught; 1 redundant candidate, 2 fragile mutants/);
  for (const c of matrix.cases) t.match(text.stdout, new RegExp(`^${c.id}\\s+${c.visibility}\\s+\\S+\\s+${c.budgetMs}\\s`, "m"), `${c.id}'s row shows its budget`);
  t.match(text.stdout, /^add-both-positive\s.*redundant\?$/m);
});

t.test("gradebox-pack matrix --variant grades correct variants with the learnt budgets and shows each case's margin", async (t) => {
  const variants = ["correct-naive-copies.mjs", "correct-own-loops.mjs"].flatMap((file) => ["--variant", `test/fixtures/gradient-checking/${file}`]);
  const { code, stdout } = await run(["matrix", "graders/gradient-checking", "--json", ...variants]);
  t.equal(code, 0, stdout);
  const matrix = JSON.parse(stdout);
  t.same(matrix.variants.map((v: { name: string; score: number }) => [v.name, v.score]), [["correct-naive-copies.mjs", 100], ["correct-own-loops.mjs", 100]]);
  for (const c of matrix.cases) {
    t.ok(c.slowestVariant.margin > 1, `${c.id}: the slowest variant (${c.slowestVariant.name}, ${c.slowestVariant.ms} ms) is within its budget (${c.budgetMs} ms)`);
  }
  t.equal(matrix.summary.minMargin, Math.min(...matrix.cases.map((c: { slowestVariant: { margin: number } }) => c.slowestVariant.margin)));
});

t.test("gradebox-pack matrix takes one pack folder", async (t) => {
  const { code, stderr } = await run(["matrix"]);
  t.equal(code, 2);
  t.match(stderr, /matrix takes one pack folder/);
});
