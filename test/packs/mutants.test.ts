import t from "tap";
import path from "node:path";
import { checkMutant, mutantId, mutantSource, type ReplacementMutant } from "../../src/packs/mutants.js";
import { parsePack } from "../../src/packs/pack.js";
import { readPackDir } from "../../src/packs/pack-files.js";
import type { PackFiles } from "../../src/packs/types.js";
import { root } from "../helpers/app.js";

const original = await readPackDir(path.join(root, "graders", "gradient-checking"));
const reference = original.get("reference/solution.mjs") as string;

function withMutant(mutant: Record<string, unknown>): PackFiles {
  const files = new Map(original);
  const assignment = JSON.parse(files.get("assignment.json") as string) as { mutants: unknown[] };
  assignment.mutants.push(mutant);
  files.set("assignment.json", JSON.stringify(assignment));
  return files;
}

const last = JSON.parse(original.get("assignment.json") as string).mutants.length as number;

t.test("a replacement mutant is the reference with each find replaced, and nothing else changed", async (t) => {
  const mutant: ReplacementMutant = {
    id: "two-changes",
    from: "reference/solution.mjs",
    replace: [{ find: "const dtheta = x;", with: "const dtheta = -x;" }, { find: "const J = theta * x;", with: "const J = theta + x;" }],
  };
  const source = mutantSource(mutant, original) as string;
  t.equal(source, reference.replace("const dtheta = x;", "const dtheta = -x;").replace("const J = theta * x;", "const J = theta + x;"));
  t.equal(source.split("\n").length, reference.split("\n").length, "single-line changes keep every line where it was");
  t.equal(mutantId(mutant), "two-changes");
  t.equal(mutantId({ file: "mutants/forgets-sign.mjs", description: "" }), "forgets-sign", "a whole-file mutant is named by its file");
});

t.test("replacements apply to the reference as written, not to each other's results", async (t) => {
  const source = mutantSource({ id: "swap", from: "reference/solution.mjs", replace: [
    { find: "const J = theta * x;", with: "const dtheta = x;" },
    { find: "const dtheta = x;", with: "const dtheta = theta;" },
  ] }, original) as string;
  t.match(source, /export function forward_propagation\(x, theta\) \{\n {2}const dtheta = x;/);
  t.match(source, /export function backward_propagation\(x, theta\) \{\n {2}const dtheta = theta;/);
});

t.test("a find that does not occur is a precise problem: the mutant, the text, the count, a stable code", async (t) => {
  const { pack, problems } = parsePack(withMutant({ id: "typo", from: "reference/solution.mjs", replace: [{ find: "const J = x * theta;", with: "const J = 0;" }] }));
  t.equal(pack, undefined, "the pack does not go live");
  t.same(problems, [{
    file: "assignment.json",
    path: `/mutants/${last}/replace/0/find`,
    code: "mutant_find_not_unique",
    message: "mutant 'typo': \"const J = x * theta;\" occurs 0 times in reference/solution.mjs; each find must occur exactly once",
  }]);
});

t.test("a find that occurs twice is a precise problem, with a hint to make it unique", async (t) => {
  const { problems } = parsePack(withMutant({ id: "ambiguous", from: "reference/solution.mjs", replace: [
    { find: "const J = theta * x;", with: "const J = 0;" },
    { find: "  return difference;\n", with: "  return -difference;\n" },
  ] }));
  t.same(problems, [{
    file: "assignment.json",
    path: `/mutants/${last}/replace/1/find`,
    code: "mutant_find_not_unique",
    message: "mutant 'ambiguous': \"  return difference;\\n\" occurs 2 times in reference/solution.mjs; each find must occur exactly once (include more of the line to make it unique)",
  }]);
  t.equal(mutantSource({ id: "ambiguous", from: "reference/solution.mjs", replace: [{ find: "return difference;", with: "" }] }, original), undefined, "such a mutant is never made");
});

t.test("overlapping finds, a missing from file and a repeated id are refused", async (t) => {
  const overlap = checkMutant({ id: "overlap", from: "reference/solution.mjs", replace: [{ find: "const J = theta", with: "" }, { find: "theta * x;", with: "" }] }, 7, original);
  t.same(overlap.map((p) => [p.path, p.code]), [["/mutants/7/replace/1/find", "mutant_finds_overlap"]]);
  const missing = checkMutant({ id: "nowhere", from: "reference/other.mjs", replace: [{ find: "x", with: "y" }] }, 2, original);
  t.same(missing.map((p) => [p.path, p.code, p.message]), [["/mutants/2/from", "mutant_from_missing", "mutant 'nowhere' is made from reference/other.mjs, which is not in the pack"]]);
  const { problems } = parsePack(withMutant({ id: "gradient-check-n-returns-array", from: "reference/solution.mjs", replace: [{ find: "const J = theta * x;", with: "const J = 0;" }] }));
  t.same(problems.map((p) => [p.path, p.code, p.message]), [[`/mutants/${last}/id`, "mutant_duplicate_id", "'gradient-check-n-returns-array' is already the id of another mutant"]]);
});

t.test("the schema tells the two forms apart: a replacement mutant has no file, and a whole-file one no replacements", async (t) => {
  const mixed = parsePack(withMutant({ file: "mutants/gradient-check-n-returns-array.mjs", description: "x", replace: [] })).problems;
  t.same(mixed.map((p) => `${p.path} ${p.message}`), [`/mutants/${last} has an unknown property 'replace'`]);
  const incomplete = parsePack(withMutant({ id: "no-changes", from: "reference/solution.mjs" })).problems;
  t.same(incomplete.map((p) => `${p.path} ${p.message}`), [`/mutants/${last} must have required property 'replace'`]);
});
