import t from "tap";
import path from "node:path";
import { parsePack } from "../../src/packs/pack.js";
import { readPackDir } from "../../src/packs/pack-files.js";
import type { PackFiles } from "../../src/packs/types.js";
import { formatProblem } from "../../src/packs/problems.js";
import { root } from "../helpers/app.js";
import { largePack } from "../helpers/large-pack.js";

const original = await readPackDir(path.join(root, "graders", "gradient-checking"));

function edited(edit: (files: PackFiles) => void): PackFiles {
  const files = new Map(original);
  edit(files);
  return files;
}

function editJson(files: PackFiles, file: string, edit: (data: Record<string, unknown>) => void): void {
  const data = JSON.parse(files.get(file) as string) as Record<string, unknown>;
  edit(data);
  files.set(file, JSON.stringify(data));
}

function problems(files: PackFiles, id?: string): string[] {
  return parsePack(files, id).problems.map(formatProblem);
}

t.test("the bundled pack parses, with cases in exercise order and public cases first", async (t) => {
  const { pack, problems } = parsePack(original, "gradient-checking");
  t.same(problems, []);
  t.equal(pack?.cases[0]?.id, "forward-notebook");
  t.match(pack?.hash, /^[0-9a-f]{16}$/);
});

t.test("the content hash changes when any file changes, and only then", async (t) => {
  const again = parsePack(new Map(original)).pack?.hash;
  const changed = parsePack(edited((f) => f.set("helpers/gc_utils.mjs", `${f.get("helpers/gc_utils.mjs")}\n// edit`))).pack?.hash;
  t.equal(again, parsePack(original).pack?.hash);
  t.not(changed, again);
});

t.test("a schema error names the file and the JSON path", async (t) => {
  const files = edited((f) => editJson(f, "cases/forward-notebook.json", (c) => { (c.expect as Record<string, unknown>).rtol = -1; }));
  t.same(problems(files), ["cases/forward-notebook.json /expect/rtol: must be >= 0"]);
  const unknown = edited((f) => editJson(f, "assignment.json", (a) => { a.points = 100; }));
  t.same(problems(unknown), ["assignment.json: has an unknown property 'points'"]);
  const badEnum = edited((f) => editJson(f, "cases/backward-notebook.json", (c) => { c.visibility = "secret"; }));
  t.same(problems(badEnum), ['cases/backward-notebook.json /visibility: must be one of "public", "hidden"']);
});

t.test("invalid JSON is reported with its line", async (t) => {
  const files = edited((f) => f.set("cases/forward-notebook.json", '{\n  "id": "forward-notebook",\n  oops\n}'));
  t.match(problems(files)[0], /^cases\/forward-notebook\.json: is not valid JSON \(line 3, column \d+\)/);
});

t.test("cross-file rules: ids match file names, exercises exist, hidden cases have no messages and do not repeat public ones", async (t) => {
  const files = edited((f) => {
    editJson(f, "cases/forward-negative-x.json", (c) => { c.args = [2, 4]; });
    editJson(f, "cases/backward-negative-x.json", (c) => { c.messages = { wrongValue: "psst: the answer is -2.5" }; });
    editJson(f, "cases/backward-fraction.json", (c) => { c.exercise = "backward"; });
    editJson(f, "cases/gradient-check-small-x.json", (c) => { c.id = "small-x"; });
    editJson(f, "cases/gradient-check-huge-theta.json", (c) => { (c.expect as Record<string, unknown>).anyOf = [1]; });
  });
  t.same(problems(files).sort(), [
    "cases/backward-fraction.json /exercise: 'backward' is not an exercise of this assignment",
    "cases/backward-negative-x.json /messages: is not allowed on a hidden case: students only see a generic message for hidden cases",
    "cases/forward-negative-x.json /args: repeats public case 'forward-notebook': a hidden case must test something the public ones do not",
    "cases/gradient-check-huge-theta.json /expect: has value and anyOf: give at most one expected value",
    "cases/gradient-check-small-x.json /id: is 'small-x' but the file is cases/gradient-check-small-x.json: name the file after the id",
  ]);
});

t.test("files that would be silently ignored are refused: unlisted mutants and helpers, stray files", async (t) => {
  const files = edited((f) => {
    f.set("mutants/unlisted.mjs", "export {}");
    f.set("helpers/unused.mjs", "export {}");
    f.set("notes.txt", "todo");
  });
  t.same(problems(files).sort(), [
    "helpers/unused.mjs: is not named in assignment.json's imports",
    "mutants/unlisted.mjs: is not listed in assignment.json's mutants, so it would never be checked",
    "notes.txt: unexpected file: a pack holds assignment.json, README.md, cases/<id>.json and .mjs modules under helpers/, reference/, starter/ and mutants/",
  ]);
});

t.test("an expected value must agree with the declared type and shape", async (t) => {
  const files = edited((f) => editJson(f, "cases/forward-notebook.json", (c) => { c.expect = { type: "array", shape: [2], value: [[1, 2]] }; }));
  t.same(problems(files), ["cases/forward-notebook.json /expect/value: has shape [1, 2] but /expect/shape is [2]"]);
});

t.test("a range no number can satisfy is refused", async (t) => {
  const files = edited((f) => editJson(f, "cases/forward-notebook.json", (c) => { c.expect = { type: "number", greaterThan: 1, atMost: 1 }; }));
  t.same(problems(files), ["cases/forward-notebook.json /expect: the range is empty: no number satisfies every bound"]);
});

t.test("a pack installed under another id than its own is refused", async (t) => {
  t.same(problems(original, "gradient-checking-v2"), ["assignment.json /id: is 'gradient-checking' but the pack is installed as 'gradient-checking-v2'"]);
});

t.test("an exercise without any case is refused", async (t) => {
  const files = edited((f) => { for (const name of [...f.keys()]) if (name.startsWith("cases/forward-")) f.delete(name); });
  t.same(problems(files), ["cases/: exercise 'forward_propagation' has no case"]);
});

t.test("an exercise without a case is a problem tools can recognise by its code, not by its wording", async (t) => {
  const withoutCases = new Map([...original].filter(([name]) => !name.startsWith("cases/")));
  const { problems } = parsePack(withoutCases, "gradient-checking");
  const missing = problems.filter((p) => p.code === "exercise_without_case");
  const { exercises } = JSON.parse(original.get("assignment.json") ?? "{}") as { exercises: Array<{ name: string }> };
  t.same(missing.map((p) => p.message), exercises.map((e) => `exercise '${e.name}' has no case`), "one per exercise");
  t.same(problems.filter((p) => p.code === undefined), [], "and nothing else is wrong with the pack");
});

t.test("a pack of 500 public and 500 hidden cases is checked in linear time, and a repeated case is still found", async (t) => {
  const files = largePack("large");
  const bytes = [...files.values()].reduce((sum, text) => sum + text.length, 0);
  t.ok(bytes > 1_800_000, `the pack is ${(bytes / 1e6).toFixed(1)} MB`);
  const started = performance.now();
  const { pack, problems } = parsePack(files, "large");
  const ms = performance.now() - started;
  t.same(problems, []);
  t.equal(pack?.cases.length, 1000);
  // Comparing every pair took 9.5 s; hashing takes a fraction of a second (generous for a loaded machine).
  t.ok(ms < 5000, `checked in ${ms.toFixed(0)} ms`);

  const twin = JSON.parse(files.get("cases/mean-public-7.json") as string) as Record<string, unknown>;
  files.set("cases/mean-hidden-999.json", JSON.stringify({ ...twin, id: "mean-hidden-999", visibility: "hidden", description: undefined }));
  t.same(parsePack(files, "large").problems.map(formatProblem), [
    "cases/mean-hidden-999.json /args: repeats public case 'mean-public-7': a hidden case must test something the public ones do not",
  ]);
});

t.test("a hidden case repeats a public one whatever the order of the keys of its arguments", async (t) => {
  const files = largePack("small", 1);
  files.set("cases/mean-public-0.json", JSON.stringify({ id: "mean-public-0", exercise: "mean", visibility: "public", args: [[1, 2], { a: 1, b: [2, 3] }], expect: { type: "number" } }));
  files.set("cases/mean-hidden-1.json", JSON.stringify({ id: "mean-hidden-1", exercise: "mean", visibility: "hidden", args: [[1, 2], { b: [2, 3], a: 1 }], expect: { type: "number" } }));
  t.equal(parsePack(files, "small").problems.length, 1, "same arguments with keys in another order");
  files.set("cases/mean-hidden-1.json", JSON.stringify({ id: "mean-hidden-1", exercise: "mean", visibility: "hidden", args: [[1, 2], { b: [2, 3], a: 1, c: 0 }], expect: { type: "number" } }));
  t.same(parsePack(files, "small").problems, [], "one more key is another case");
});
