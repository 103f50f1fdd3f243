import t from "tap";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { root } from "../helpers/app.js";
import { copyPack, run, scratchDir } from "./support.js";

// gradebox-pack and the pack's mutants; in a file of its own so that each file stays within tap's time limit.

const scratch = await scratchDir();

t.test("grade --mutant grades a mutant made from the reference by its replacements", async (t) => {
  const { code, stdout } = await run(["grade", "graders/gradient-checking", "--mutant", "gradient-check-numerator-only", "--json"]);
  t.equal(code, 1);
  const feedback = JSON.parse(stdout);
  t.equal(feedback.score, 75);
  t.equal(feedback.exercises[2].name, "gradient_check");
  t.equal(feedback.exercises[2].passed, false, "the replaced line is what is graded");
  const unknown = await run(["grade", "graders/gradient-checking", "--mutant", "no-such-mutant"]);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /'no-such-mutant' is not a mutant of this pack; its mutants are hardcoded-forward, /);
});

t.test("mutant prints a replacement mutant's source: the reference with its replacements made", async (t) => {
  const { code, stdout } = await run(["mutant", "graders/gradient-checking", "gradient-check-divides-by-epsilon"]);
  t.equal(code, 0);
  const reference = await readFile(path.join(root, "graders", "gradient-checking", "reference", "solution.mjs"), "utf8");
  t.equal(stdout, reference.replace("const gradapprox = (J_plus - J_minus) / (2 * epsilon);", "const gradapprox = (J_plus - J_minus) / epsilon;"));
});

t.test("validate says which find of a replacement mutant does not occur exactly once", async (t) => {
  const dir = await copyPack(scratch, "bad-find");
  const file = path.join(dir, "assignment.json");
  const data = JSON.parse(await readFile(file, "utf8"));
  data.mutants[0].replace[0].find = "return difference;";
  await writeFile(file, JSON.stringify(data));
  const { code, stdout } = await run(["validate", dir]);
  t.equal(code, 1);
  t.match(stdout, /- assignment\.json \/mutants\/0\/replace\/0\/find: mutant 'hardcoded-forward': "return difference;" occurs 2 times in reference\/solution\.mjs; each find must occur exactly once/);
});

