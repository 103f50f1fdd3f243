import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { canonicalHash } from "../canonical.js";
import { schemas, schemaErrors, validator } from "../schemas.js";
import { checkLayout } from "./pack-files.js";
import { checkMutant, isFileMutant, mutantId, mutantProblemCodes } from "./mutants.js";
import type { PackProblem } from "./problems.js";
import { compilePattern } from "../grading/output.js";
import { expectedType, isEncodedNonFinite, shapeOf } from "../grading/values.js";
import type { Assignment, Case, Pack, PackFiles } from "./types.js";

export function packHash(files: PackFiles): string {
  const hash = createHash("sha256");
  for (const name of [...files.keys()].sort()) {
    hash.update(name).update("\0").update(files.get(name) ?? "").update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

function parseJson(file: string, text: string, problems: PackProblem[]): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message);
    let where = "";
    if (position !== null) {
      const before = text.slice(0, Number(position[1]));
      const line = before.split("\n").length;
      where = ` (line ${line}, column ${before.length - before.lastIndexOf("\n")})`;
    }
    problems.push({ file, path: "", message: `is not valid JSON${where}: ${message}` });
    return undefined;
  }
}

function checkSchema(file: string, data: unknown, schema: { $id: string }, problems: PackProblem[]): boolean {
  const validate = validator(schema);
  if (validate(data)) return true;
  for (const { path, message } of schemaErrors(validate.errors)) problems.push({ file, path, message });
  return false;
}

/**
 * Checks everything about a pack that needs no sandbox: the layout, every file against its schema,
 * and the cross-file rules. Running the reference, the mutants and the starter is self-test.ts.
 */
export function parsePack(files: PackFiles, expectedId?: string): { pack?: Pack; problems: PackProblem[] } {
  const problems = checkLayout(files);
  const assignmentText = files.get("assignment.json");
  if (assignmentText === undefined) {
    problems.push({ file: "assignment.json", path: "", message: "is missing: every pack has an assignment.json" });
    return { problems };
  }
  const assignment = parseJson("assignment.json", assignmentText, problems) as Assignment | undefined;
  if (assignment === undefined || !checkSchema("assignment.json", assignment, schemas.assignment, problems)) return { problems };
  if (expectedId !== undefined && assignment.id !== expectedId) {
    problems.push({ file: "assignment.json", path: "/id", message: `is '${assignment.id}' but the pack is installed as '${expectedId}'` });
  }

  const exerciseNames = new Set<string>();
  assignment.exercises.forEach((exercise, i) => {
    if (exerciseNames.has(exercise.name)) problems.push({ file: "assignment.json", path: `/exercises/${i}/name`, message: `duplicates exercise '${exercise.name}'` });
    exerciseNames.add(exercise.name);
  });
  for (const [specifier, file] of Object.entries(assignment.imports)) {
    if (!files.has(file)) problems.push({ file: "assignment.json", path: `/imports/${specifier}`, message: `names ${file}, which is not in the pack` });
  }
  for (const key of ["reference", "starter"] as const) {
    if (!files.has(assignment[key])) problems.push({ file: "assignment.json", path: `/${key}`, message: `names ${assignment[key]}, which is not in the pack` });
  }
  const listedMutants = new Set<string>();
  // A replacement mutant's id must not collide with a whole-file mutant's (its file name), so reports name each once.
  const mutantIds = new Set(assignment.mutants.filter(isFileMutant).map(mutantId));
  assignment.mutants.forEach((mutant, i) => {
    if (isFileMutant(mutant)) {
      if (!files.has(mutant.file)) problems.push({ file: "assignment.json", path: `/mutants/${i}/file`, message: `names ${mutant.file}, which is not in the pack` });
      if (listedMutants.has(mutant.file)) problems.push({ file: "assignment.json", path: `/mutants/${i}/file`, message: `lists ${mutant.file} twice` });
      listedMutants.add(mutant.file);
    } else {
      if (mutantIds.has(mutant.id)) problems.push({ file: "assignment.json", path: `/mutants/${i}/id`, code: mutantProblemCodes.duplicateId, message: `'${mutant.id}' is already the id of another mutant` });
      mutantIds.add(mutant.id);
      problems.push(...checkMutant(mutant, i, files));
    }
    (mutant.mustFail ?? []).forEach((name, j) => {
      if (!exerciseNames.has(name)) problems.push({ file: "assignment.json", path: `/mutants/${i}/mustFail/${j}`, message: `'${name}' is not an exercise` });
    });
  });
  for (const name of files.keys()) {
    if (name.startsWith("mutants/") && !listedMutants.has(name)) {
      problems.push({ file: name, path: "", message: "is not listed in assignment.json's mutants, so it would never be checked" });
    }
  }
  const helperFiles = new Set(Object.values(assignment.imports));
  for (const name of files.keys()) {
    if (name.startsWith("helpers/") && !helperFiles.has(name)) problems.push({ file: name, path: "", message: "is not named in assignment.json's imports" });
  }

  const cases: Case[] = [];
  for (const [file, text] of files) {
    if (!file.startsWith("cases/")) continue;
    const data = parseJson(file, text, problems);
    if (data === undefined || !checkSchema(file, data, schemas.case, problems)) continue;
    const testCase = { ...(data as Omit<Case, "file">), file };
    checkCase(testCase, exerciseNames, problems);
    cases.push(testCase);
  }

  for (const exercise of assignment.exercises) {
    if (!cases.some((c) => c.exercise === exercise.name)) {
      problems.push({ file: "cases/", path: "", message: `exercise '${exercise.name}' has no case`, code: "exercise_without_case" });
    }
  }
  // Public cases by exercise and a hash of their arguments: one pass, where comparing every hidden
  // case with every public one took seconds for a pack of a thousand cases.
  const publicByArgs = new Map<string, Case>();
  const argsKey = (c: Case) => `${c.exercise}\0${canonicalHash(c.args)}`;
  for (const c of cases) {
    if (c.visibility !== "public") continue;
    const key = argsKey(c);
    if (!publicByArgs.has(key)) publicByArgs.set(key, c);
  }
  for (const hidden of cases.filter((c) => c.visibility === "hidden")) {
    const twin = publicByArgs.get(argsKey(hidden));
    if (twin !== undefined) {
      problems.push({ file: hidden.file, path: "/args", message: `repeats public case '${twin.id}': a hidden case must test something the public ones do not` });
    }
  }

  if (problems.length > 0) return { problems };
  const order = new Map(assignment.exercises.map((e, i) => [e.name, i]));
  cases.sort((a, b) =>
    (order.get(a.exercise) ?? 0) - (order.get(b.exercise) ?? 0)
    || (a.visibility === b.visibility ? 0 : a.visibility === "public" ? -1 : 1)
    || a.id.localeCompare(b.id));
  return { pack: { id: assignment.id, assignment, cases, files, hash: packHash(files) }, problems };
}

function checkCase(testCase: Case, exerciseNames: Set<string>, problems: PackProblem[]): void {
  const { file, expect } = testCase;
  const add = (path: string, message: string) => problems.push({ file, path, message });
  if (`cases/${testCase.id}.json` !== file) add("/id", `is '${testCase.id}' but the file is ${file}: name the file after the id`);
  if (!exerciseNames.has(testCase.exercise)) add("/exercise", `'${testCase.exercise}' is not an exercise of this assignment`);
  if (testCase.visibility === "hidden" && testCase.messages !== undefined) {
    add("/messages", "is not allowed on a hidden case: students only see a generic message for hidden cases");
  }
  const sources = (["value", "anyOf", "reference"] as const).filter((k) => expect[k] !== undefined);
  if (sources.length > 1) add("/expect", `has ${sources.join(" and ")}: give at most one expected value`);
  const candidates = expect.value !== undefined ? [expect.value] : expect.anyOf ?? [];
  candidates.forEach((candidate, i) => {
    const where = expect.value !== undefined ? "/expect/value" : `/expect/anyOf/${i}`;
    const type = expectedType(candidate);
    if (type === undefined) {
      add(where, "must be a number, a rectangular array of numbers, a string, a boolean, null or an object");
      return;
    }
    if (expect.type !== undefined && expect.type !== type) add(where, `is ${type === "array" ? "an array" : `a ${type}`} but /expect/type is '${expect.type}'`);
    if (expect.shape !== undefined && type === "array" && !isDeepStrictEqual(shapeOf(candidate), expect.shape)) {
      add(where, `has shape [${shapeOf(candidate)?.join(", ")}] but /expect/shape is [${expect.shape.join(", ")}]`);
    }
  });
  if (expect.shape !== undefined && expect.type !== undefined && expect.type !== "array") add("/expect/shape", "only applies to arrays");
  const ranged = [expect.lessThan, expect.greaterThan, expect.atMost, expect.atLeast].some((bound) => bound !== undefined);
  if (ranged && expect.type !== undefined && expect.type !== "number" && expect.type !== "array") {
    add("/expect", "lessThan, greaterThan, atMost and atLeast apply to numbers and arrays of numbers");
  }
  const lowest = Math.max(expect.greaterThan ?? -Infinity, expect.atLeast ?? -Infinity);
  const highest = Math.min(expect.lessThan ?? Infinity, expect.atMost ?? Infinity);
  const empty = lowest > highest || (lowest === highest && (expect.greaterThan === lowest || expect.lessThan === highest));
  if (ranged && empty) add("/expect", "the range is empty: no number satisfies every bound");
  checkEncodedNumbers(testCase.args, "/args", add);
  checkEncodedNumbers(expect.value, "/expect/value", add);
  checkEncodedNumbers(expect.anyOf, "/expect/anyOf", add);
  checkEncodedNumbers(testCase.argsAfter?.value, "/argsAfter/value", add);
  if (testCase.output?.pattern !== undefined) {
    try {
      compilePattern(testCase.output.pattern);
    } catch (error) {
      add("/output/pattern", `is not a regular expression in RE2's syntax: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const argsAfter = testCase.argsAfter;
  if (argsAfter?.unchanged === true && (argsAfter.rtol !== undefined || argsAfter.atol !== undefined)) {
    add("/argsAfter", "rtol and atol apply to value: unchanged compares exactly");
  }
}

/**
 * A "$number" key is the encoding of NaN and ±Infinity: an object that has one but is not exactly
 * {"$number": "NaN" | "Infinity" | "-Infinity"} is a typo the sandbox would pass on as an object.
 */
function checkEncodedNumbers(value: unknown, path: string, add: (path: string, message: string) => void): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkEncodedNumbers(item, `${path}/${i}`, add));
    return;
  }
  if (typeof value !== "object" || value === null) return;
  if ("$number" in value && !isEncodedNonFinite(value)) {
    add(path, 'uses "$number" but is not {"$number": "NaN"}, {"$number": "Infinity"} or {"$number": "-Infinity"}');
    return;
  }
  for (const [key, item] of Object.entries(value)) checkEncodedNumbers(item, `${path}/${key}`, add);
}
