import t from "tap";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { copyPack as copyPackTo, run, scratchDir } from "./support.js";

const scratch = await scratchDir();
const copyPack = (name: string) => copyPackTo(scratch, name);

t.test("validate passes the bundled pack and says what it checked", async (t) => {
  const { code, stdout } = await run(["validate", "graders/gradient-checking"]);
  t.equal(code, 0);
  t.match(stdout, /✓ reference reference\/solution\.mjs passes 25 of 25 cases/);
  t.match(stdout, /✓ 30 of 30 mutants fail at least one case/);
  t.match(stdout, /✓ hardcoded-forward \(reference\/solution\.mjs with replacements\): 50\/100, fails forward-/);
  t.match(stdout, /✓ mutants\/gradient-check-n-returns-array\.mjs: 75\/100, fails gradient-check-n-/);
  t.match(stdout, /✓ starter starter\/solution\.mjs loads/);
  t.match(stdout, /✓ graders\/gradient-checking: valid — 25 cases \(5 public, 20 hidden\)/);
});

t.test("validate exits 1 on a broken pack and lists each problem with its file and JSON path", async (t) => {
  const dir = await copyPack("broken");
  const file = path.join(dir, "cases", "forward-notebook.json");
  const data = JSON.parse(await readFile(file, "utf8"));
  data.expect.atol = "tiny";
  await import("node:fs/promises").then((fs) => fs.writeFile(file, JSON.stringify(data)));
  const { code, stdout } = await run(["validate", dir]);
  t.equal(code, 1);
  t.match(stdout, /- cases\/forward-notebook\.json \/expect\/atol: must be number/);
});

t.test("add-case runs the reference in the sandbox, writes the case with its value, and the pack still validates", async (t) => {
  const dir = await copyPack("add-case");
  const { code, stdout } = await run(["add-case", dir, "--exercise", "gradient_check", "--args", "[5, -2, 0.01]", "--hidden", "--rtol", "1e-12", "--description", "x = 5, theta = -2, epsilon = 0.01", "--omit-defaults", "print_msg", "--weight", "2"]);
  t.equal(code, 0, stdout);
  t.match(stdout, /✓ wrote .*cases\/gradient-check-hidden-1\.json: gradient_check\(5, -2, 0\.01\) → /);
  const written = JSON.parse(await readFile(path.join(dir, "cases", "gradient-check-hidden-1.json"), "utf8"));
  t.same(written.args, [5, -2, 0.01]);
  t.equal(written.visibility, "hidden");
  t.equal(written.expect.type, "number");
  t.equal(written.expect.rtol, 1e-12);
  // The value is the reference's: (J(θ+ε) − J(θ−ε)) / 2ε against x, computed the notebook's way.
  const gradapprox = (5 * (-2 + 0.01) - 5 * (-2 - 0.01)) / (2 * 0.01);
  t.equal(written.expect.value, Math.abs(5 - gradapprox) / (Math.abs(5) + Math.abs(gradapprox)));
  t.match(stdout, /valid — 26 cases \(5 public, 21 hidden\)/);
  t.same([written.omits, written.weight, written.output], [["print_msg"], 2, undefined], "--omit-defaults and --weight are recorded; output only when asked");
  t.equal((await run(["add-case", dir, "--exercise", "gradient_check", "--args", "[1, 2]", "--omit-defaults", "epsilon print_msg"])).code, 2, "names are separated by commas");
  t.equal((await run(["add-case", dir, "--exercise", "gradient_check", "--args", "[1, 2]", "--weight", "0"])).code, 2, "a weight is above 0");
  const again = await run(["add-case", dir, "--exercise", "gradient_check", "--args", "[1, 1]", "--id", "gradient-check-hidden-1"]);
  t.equal(again.code, 2, "an existing case is not overwritten without --force");
  t.match(again.stderr, /exists; choose another --id or pass --force/);
});

t.test("add-case writes NaN as {\"$number\": \"NaN\"} and, with --expect-output-from-reference, what the reference printed", async (t) => {
  const dir = await copyPack("add-case-nan");
  const { code, stdout } = await run(["add-case", dir, "--exercise", "gradient_check", "--args", "[0, 4, 1e-7, true]", "--id", "zero-x", "--hidden", "--expect-output-from-reference"]);
  t.equal(code, 0, stdout);
  t.match(stdout, /gradient_check\(0, 4, 1e-7, true\) → NaN, printing /);
  const written = JSON.parse(await readFile(path.join(dir, "cases", "zero-x.json"), "utf8"));
  t.same(written.expect, { type: "number", value: { $number: "NaN" } });
  t.same(written.output, { text: "\u001b[92mYour backward propagation works perfectly fine! difference = nan\u001b[0m\n" }, "NaN > 2e-7 is false, so the works-fine message, with Python's nan");
  t.match(stdout, /valid — 26 cases \(5 public, 21 hidden\)/, "the reference passes the case it wrote");
});

t.test("grade prints the feedback the service would give, and exits 0 only on a full score", async (t) => {
  const good = await run(["grade", "graders/gradient-checking", "graders/gradient-checking/reference/solution.mjs"]);
  t.equal(good.code, 0);
  t.match(good.stdout, /gradient-checking \(assignmentVersion [0-9a-f]{16}\): graded, 100\/100/);
  const bad = await run(["grade", "graders/gradient-checking", "graders/gradient-checking/mutants/gradient-check-n-returns-array.mjs", "--json"]);
  t.equal(bad.code, 1);
  const feedback = JSON.parse(bad.stdout);
  t.equal(feedback.score, 75);
  t.equal(feedback.exercises[3].passed, false);
});

t.test("new scaffolds a pack that validates", async (t) => {
  const { code, stdout } = await run(["new", "my-first-pack", "--dir", scratch]);
  t.equal(code, 0, stdout);
  t.match(stdout, /✓ created /);
  t.match(stdout, /✓ .*my-first-pack: valid — 4 cases \(2 public, 2 hidden\)/);
  const assignment = JSON.parse(await readFile(path.join(scratch, "my-first-pack", "assignment.json"), "utf8"));
  t.equal(assignment.id, "my-first-pack");
});

t.test("wrong usage exits 2 with the usage text", async (t) => {
  const { code, stderr } = await run(["frobnicate"]);
  t.equal(code, 2);
  t.match(stderr, /unknown command 'frobnicate'/);
  t.match(stderr, /Usage: gradebox-pack/);
  t.equal((await run(["add-case", "graders/gradient-checking", "--exercise", "gradient_check"])).code, 2);
});
