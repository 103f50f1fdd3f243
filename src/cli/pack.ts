#!/usr/bin/env node
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadConfig, type Config } from "../config.js";
import type { Feedback } from "../grading/feedback.js";
import { grade, runJob } from "../grading/grade.js";
import { formatJson } from "../packs/format-json.js";
import { mutantId, mutantSource } from "../packs/mutants.js";
import { isDirectory, readPackDir } from "../packs/pack-files.js";
import { parsePack } from "../packs/pack.js";
import type { Case, Pack } from "../packs/types.js";
import { formatProblem } from "../packs/problems.js";
import { preparePack, type PreparedPack } from "../packs/self-test.js";
import { callMs, median } from "../packs/budgets.js";
import { caseMatrix, formatMatrix, type VariantRun } from "../packs/matrix.js";
import { display, expectedType, plainJson, shapeOf } from "../grading/values.js";
import { lowerLimits } from "../limits.js";
import type { Log } from "../logger.js";
import { poolOptions, SandboxPool } from "../sandbox/pool.js";
import { scaffoldPack } from "./scaffold.js";
import { impact, ImpactError } from "./impact.js";

/**
 * gradebox-pack: the instructors' tool. It uses the same loader, self-test and sandbox as the
 * service, so a pack that validates here is a pack the service will accept, and `grade` gives the
 * feedback the service would.
 *
 * Exit codes: 0 success, 1 the pack (or the graded file) has problems, 2 wrong usage.
 */

const USAGE = `Usage: gradebox-pack <command> [options]

Commands:
  validate <pack-dir>                 Check every file, run the reference, the mutants and the starter.
  add-case <pack-dir> --exercise NAME --args JSON [--hidden] [--rtol N] [--atol N]
                      [--reference] [--id ID] [--description TEXT] [--force]
                      [--omit-defaults NAMES] [--expect-output-from-reference] [--weight N]
                                      Run the reference on the arguments in the sandbox and write
                                      cases/<id>.json with its value as the expected value
                                      (--reference: expect {"reference": true} instead, so the
                                      value is recomputed whenever the pack loads).
                                      --omit-defaults epsilon,print_msg: the args stop before these
                                      parameters, so the function's defaults run (recorded in omits).
                                      --expect-output-from-reference: the case also expects exactly
                                      what the reference printed in this call.
                                      --weight N: the case's share of its exercise's points (default 1).
  grade <pack-dir> <file.mjs> [--json]
                                      Grade a local file exactly as the service would.
  grade <pack-dir> --mutant ID [--json]
                                      Grade one of the pack's mutants (a whole-file one, or one
                                      made from the reference by its replacements).
  matrix <pack-dir> [--json] [--variant FILE]...
                                      Grade the reference and every mutant and show which cases
                                      catch which mutants, each case's cost (the reference's median
                                      CPU ms) and CPU budget, redundant candidate cases and fragile
                                      mutants. --variant: a correct solution graded with those
                                      budgets, whose margin (budget / its CPU ms) each case shows.
  mutant <pack-dir> <id>              Print a mutant's source as it is graded (for a replacement
                                      mutant: the reference with its replacements made).
  new <id> [--dir DIR]                Scaffold a pack that validates, in DIR/<id> (default graders/<id>).
  impact <pack-dir> --server URL --token T [--assignment ID] [--scope latest|all] [--first N] [--json]
                                      Preview a changed pack on a running service: a dry-run
                                      regrade of the stored submissions (the latest of each
                                      student by default) against the folder, without installing
                                      it; prints how many improve, worsen, stay, and the first N
                                      changes (default 10). --token defaults to $ADMIN_TOKEN.

Limits come from the same environment variables as the service (see README).`;

class UsageError extends Error {}

const silent: Log = { debug() {}, info() {}, warn() {}, error() {} };

function write(line = ""): void {
  process.stdout.write(`${line}\n`);
}

async function withPool<T>(config: Config, work: (pool: SandboxPool) => Promise<T>): Promise<T> {
  const pool = new SandboxPool(poolOptions(config, silent));
  try {
    await pool.ready();
    return await work(pool);
  } finally {
    await pool.close();
  }
}

async function prepare(config: Config, pool: SandboxPool, dir: string): Promise<PreparedPack> {
  if (!(await isDirectory(dir))) throw new UsageError(`${dir} is not a folder`);
  return preparePack(await readPackDir(dir), path.basename(path.resolve(dir)), config.limits, {
    pool,
    resultMaxDepth: config.resultMaxDepth,
    concurrency: config.workers,
    budget: config.budget,
  });
}

function printValidation(dir: string, prepared: PreparedPack): boolean {
  const { gradable, problems, selfTest } = prepared;
  if (selfTest !== undefined) {
    const { reference, mutants, starter } = selfTest;
    write(`${reference.passed === reference.total ? "✓" : "✗"} reference ${reference.file} passes ${reference.passed} of ${reference.total} cases`);
    const caught = mutants.filter((m) => m.failedCases.length > 0).length;
    write(`${caught === mutants.length ? "✓" : "✗"} ${caught} of ${mutants.length} mutants fail at least one case`);
    for (const m of mutants) {
      const shown = m.failedCases.slice(0, 4).join(", ") + (m.failedCases.length > 4 ? `, … (${m.failedCases.length} in all)` : "");
      write(`    ${m.failedCases.length > 0 ? "✓" : "✗"} ${m.file ?? `${m.id} (${m.from} with replacements)`}: ${m.score}/${m.maxScore}${m.failedCases.length > 0 ? `, fails ${shown}` : ", passes everything"}`);
    }
    write(`${starter.loaded ? "✓" : "✗"} starter ${starter.file} ${starter.loaded ? "loads" : `does not load: ${starter.reason}`}`);
  }
  if (problems.length > 0) {
    write(`✗ ${dir}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
    for (const problem of problems) write(`  - ${formatProblem(problem)}`);
    return false;
  }
  const pack = gradable?.pack as Pack;
  const hidden = pack.cases.filter((c) => c.visibility === "hidden").length;
  write(`✓ ${dir}: valid — ${pack.cases.length} cases (${pack.cases.length - hidden} public, ${hidden} hidden), assignmentVersion ${pack.hash}`);
  return true;
}

async function validate(config: Config, dir: string): Promise<number> {
  return withPool(config, async (pool) => (printValidation(dir, await prepare(config, pool, dir)) ? 0 : 1));
}

function kebab(name: string): string {
  return name.replace(/_/g, "-").replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

function parseNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`--${flag} must be a number >= 0, not '${text}'`);
  return value;
}

async function addCase(config: Config, dir: string, options: Record<string, string | string[] | boolean | undefined>): Promise<number> {
  const exercise = options.exercise as string | undefined;
  if (exercise === undefined || options.args === undefined) throw new UsageError("add-case needs --exercise and --args");
  let args: unknown;
  try {
    args = JSON.parse(options.args as string);
  } catch (error) {
    throw new UsageError(`--args is not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(args)) throw new UsageError("--args must be a JSON array of the call's arguments, e.g. '[3, 4]'");
  const visibility = options.hidden === true ? "hidden" : "public";
  const call = `${exercise}(${args.map((arg) => display(arg)).join(", ")})`;
  const rtol = parseNumber("rtol", options.rtol as string | undefined);
  const atol = parseNumber("atol", options.atol as string | undefined);
  const weight = parseNumber("weight", options.weight as string | undefined);
  if (weight === 0) throw new UsageError("--weight must be greater than 0");
  const omits = typeof options["omit-defaults"] === "string" ? options["omit-defaults"].split(",").map((name) => name.trim()).filter((name) => name !== "") : undefined;
  if (omits !== undefined && (omits.length === 0 || omits.some((name) => !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)))) {
    throw new UsageError("--omit-defaults takes the names of the parameters left out, separated by commas: --omit-defaults epsilon,print_msg");
  }

  const files = await readPackDir(dir);
  // Only the cases may be incomplete while they are being written: the rest must parse for the reference to run.
  const withoutCases = new Map([...files].filter(([name]) => !name.startsWith("cases/")));
  const blocking = parsePack(withoutCases).problems.filter((p) => p.code !== "exercise_without_case");
  if (blocking.length > 0) {
    write(`✗ ${dir} does not parse, so its reference cannot run:`);
    for (const p of blocking) write(`  - ${formatProblem(p)}`);
    return 1;
  }
  const assignment = JSON.parse(files.get("assignment.json") as string) as Pack["assignment"];
  if (!assignment.exercises.some((e) => e.name === exercise)) throw new UsageError(`'${exercise}' is not an exercise of ${assignment.id}`);

  let id = options.id as string | undefined;
  if (id === undefined) {
    const base = `${kebab(exercise)}-${visibility === "hidden" ? "hidden-" : ""}`;
    let n = 1;
    while (files.has(`cases/${base}${n}.json`)) n++;
    id = `${base}${n}`;
  }
  const file = `cases/${id}.json`;
  if (files.has(file) && options.force !== true) throw new UsageError(`${file} exists; choose another --id or pass --force`);

  return withPool(config, async (pool) => {
    // The new case is run on the reference as a grading runs its cases; what it expects is what this finds out.
    // It runs as a public case whatever its visibility, so that the worker keeps what the reference printed.
    const probe: Case = { id, exercise, visibility: "public", args, expect: { type: "number" }, file };
    const limits = lowerLimits(config.limits, assignment.limits);
    const report = await runJob({ assignment, files }, [probe], files.get(assignment.reference) ?? "", limits, { pool, resultMaxDepth: config.resultMaxDepth });
    const outcome = report.calls[0]?.outcome;
    if (report.load.kind !== "loaded" || outcome?.kind !== "value") {
      write(`✗ the reference did not return a value for ${call}: ${report.load.kind !== "loaded" ? report.load.kind : outcome?.kind}`);
      return 1;
    }
    const plain = plainJson(outcome.value);
    const type = plain === undefined ? undefined : expectedType(plain.value);
    if (plain === undefined || type === undefined) {
      write(`✗ the reference returned ${display(outcome.value)} for ${call}, which cannot be an expected value; nothing was written`);
      return 1;
    }
    const value = plain.value;
    const expect: Record<string, unknown> = { type };
    if (type === "array") expect.shape = shapeOf(value);
    if (options.reference === true) expect.reference = true;
    else expect.value = value;
    if (rtol !== undefined) expect.rtol = rtol;
    if (atol !== undefined) expect.atol = atol;
    const testCase: Record<string, unknown> = { $schema: "../../../submissions-schema/pack/case.schema.json", id, exercise, visibility };
    if (typeof options.description === "string") testCase.description = options.description;
    testCase.args = args;
    if (omits !== undefined) testCase.omits = omits;
    testCase.expect = expect;
    if (options["expect-output-from-reference"] === true) testCase.output = { text: report.calls[0]?.output ?? "" };
    if (weight !== undefined) testCase.weight = weight;
    await mkdir(path.join(dir, "cases"), { recursive: true });
    await writeFile(path.join(dir, file), `${formatJson(testCase)}\n`, "utf8");
    const printed = testCase.output !== undefined ? `, printing ${JSON.stringify(report.calls[0]?.output ?? "")}` : "";
    write(`✓ wrote ${path.join(dir, file)}: ${call} → ${display(value)}${printed}`);
    const prepared = await prepare(config, pool, dir);
    printValidation(dir, prepared);
    return 0;
  });
}

function printFeedback(feedback: Feedback): void {
  write(`${feedback.assignment} (assignmentVersion ${feedback.assignmentVersion}): ${feedback.status}, ${feedback.score}/${feedback.maxScore} in ${feedback.durationMs} ms`);
  if (feedback.reason !== undefined) {
    const at = feedback.reason.line !== undefined ? ` at line ${feedback.reason.line}, column ${feedback.reason.column}` : "";
    write(`  rejected (${feedback.reason.code})${at}: ${feedback.reason.message}`);
  }
  for (const exercise of feedback.exercises) {
    write(`  ${exercise.passed ? "✓" : "✗"} ${exercise.name}: ${exercise.score}/${exercise.maxScore}`);
    for (const test of exercise.tests) {
      write(`      ${test.status === "passed" ? "✓" : "✗"} ${test.id} (${test.visibility}) ${test.status}${test.status === "passed" ? "" : `: ${test.message}`}`);
      if (test.expected !== undefined) write(`          expected: ${test.expected}`);
      if (test.received !== undefined) write(`          received: ${test.received}`);
    }
  }
  if (feedback.output !== "") {
    write("  output:");
    for (const line of feedback.output.replace(/\n$/, "").split("\n")) write(`    ${line}`);
  }
}

/** What `grade` grades: a local file, or one of the pack's mutants by id. */
type GradeTarget = { file: string } | { mutant: string };

/**
 * A mutant's source as it is graded, from a pack that only needs to parse (no sandbox), so that a
 * wrong id or a bad find is reported before the slow self-test; a number is the exit code.
 */
async function mutantFromDir(dir: string, id: string): Promise<string | number> {
  if (!(await isDirectory(dir))) throw new UsageError(`${dir} is not a folder`);
  const { pack, problems } = parsePack(await readPackDir(dir));
  if (pack === undefined) {
    write(`✗ ${dir} does not parse, so its mutants cannot be made:`);
    for (const p of problems) write(`  - ${formatProblem(p)}`);
    return 1;
  }
  const spec = pack.assignment.mutants.find((m) => mutantId(m) === id);
  if (spec === undefined) throw new UsageError(`'${id}' is not a mutant of this pack; its mutants are ${pack.assignment.mutants.map(mutantId).join(", ")}`);
  return mutantSource(spec, pack.files) ?? "";
}

async function gradeFile(config: Config, dir: string, target: GradeTarget, json: boolean): Promise<number> {
  const source = "file" in target ? await readFile(target.file, "utf8") : await mutantFromDir(dir, target.mutant);
  if (typeof source === "number") return source;
  return withPool(config, async (pool) => {
    const prepared = await prepare(config, pool, dir);
    if (prepared.gradable === undefined) {
      printValidation(dir, prepared);
      return 1;
    }
    const { feedback } = await grade(prepared.gradable, source, prepared.gradable.limits, { pool, resultMaxDepth: config.resultMaxDepth });
    if (json) write(JSON.stringify(feedback, null, 2));
    else printFeedback(feedback);
    return feedback.score === feedback.maxScore ? 0 : 1;
  });
}

/** A correct variant graded BUDGET_RUNS times with the learnt budgets: its worst score and median CPU ms per case. */
async function gradeVariant(config: Config, pool: SandboxPool, gradable: NonNullable<PreparedPack["gradable"]>, file: string): Promise<VariantRun> {
  const source = await readFile(file, "utf8");
  const runs: Array<Awaited<ReturnType<typeof grade>>> = [];
  for (let i = 0; i < config.budget.runs; i++) runs.push(await grade(gradable, source, gradable.limits, { pool, resultMaxDepth: config.resultMaxDepth }));
  const cpuMs = new Map<string, number>();
  const cases = runs[0]?.cases ?? [];
  cases.forEach((c, index) => {
    const times = runs.map((r) => callMs(r.report.calls[index])).filter((ms): ms is number => ms !== undefined);
    if (times.length > 0) cpuMs.set(c.id, median(times));
  });
  const scores = runs.map((r) => r.feedback.score);
  return { name: path.basename(file), score: Math.min(...scores), maxScore: runs[0]?.feedback.maxScore ?? 0, cpuMs };
}

async function matrix(config: Config, dir: string, variants: string[], json: boolean): Promise<number> {
  return withPool(config, async (pool) => {
    const prepared = await prepare(config, pool, dir);
    if (prepared.gradable === undefined || prepared.selfTest === undefined) {
      printValidation(dir, prepared);
      return 1;
    }
    const graded: VariantRun[] = [];
    for (const file of variants) graded.push(await gradeVariant(config, pool, prepared.gradable, file));
    const result = caseMatrix(prepared.gradable, prepared.selfTest, graded);
    write(json ? JSON.stringify(result, null, 2) : formatMatrix(result));
    // A variant that fails (on time or otherwise) is a finding, like a problem in the pack.
    return graded.every((v) => v.score === v.maxScore) ? 0 : 1;
  });
}

/** Prints a mutant's source; needs no sandbox, only a pack that parses. */
async function printMutant(dir: string, id: string): Promise<number> {
  const source = await mutantFromDir(dir, id);
  if (typeof source === "number") return source;
  process.stdout.write(source);
  return 0;
}

async function scaffold(config: Config, id: string, parent: string): Promise<number> {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(id)) throw new UsageError("the id must be lowercase letters, digits and dashes");
  const dir = path.join(parent, id);
  if (await isDirectory(dir)) throw new UsageError(`${dir} already exists`);
  for (const [name, content] of scaffoldPack(id)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content, "utf8");
  }
  write(`✓ created ${dir}`);
  return validate(config, dir);
}

// `gradebox-pack validate … | head` closes stdout early; that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      exercise: { type: "string" },
      args: { type: "string" },
      hidden: { type: "boolean" },
      rtol: { type: "string" },
      atol: { type: "string" },
      id: { type: "string" },
      description: { type: "string" },
      force: { type: "boolean" },
      reference: { type: "boolean" },
      "omit-defaults": { type: "string" },
      "expect-output-from-reference": { type: "boolean" },
      weight: { type: "string" },
      json: { type: "boolean" },
      mutant: { type: "string" },
      variant: { type: "string", multiple: true },
      dir: { type: "string" },
      server: { type: "string" },
      token: { type: "string" },
      assignment: { type: "string" },
      scope: { type: "string" },
      first: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help === true || command === undefined) {
    write(USAGE);
    return command === undefined && values.help !== true ? 2 : 0;
  }
  const config = loadConfig(process.env);
  switch (command) {
    case "validate":
      if (rest.length !== 1) throw new UsageError("validate takes one pack folder");
      return validate(config, rest[0] as string);
    case "add-case":
      if (rest.length !== 1) throw new UsageError("add-case takes one pack folder");
      return addCase(config, rest[0] as string, values);
    case "grade":
      if (values.mutant !== undefined) {
        if (rest.length !== 1) throw new UsageError("grade --mutant takes a pack folder and no file");
        return gradeFile(config, rest[0] as string, { mutant: values.mutant }, values.json === true);
      }
      if (rest.length !== 2) throw new UsageError("grade takes a pack folder and a file (or --mutant ID)");
      return gradeFile(config, rest[0] as string, { file: rest[1] as string }, values.json === true);
    case "matrix":
      if (rest.length !== 1) throw new UsageError("matrix takes one pack folder");
      return matrix(config, rest[0] as string, values.variant ?? [], values.json === true);
    case "mutant":
      if (rest.length !== 2) throw new UsageError("mutant takes a pack folder and a mutant's id");
      return printMutant(rest[0] as string, rest[1] as string);
    case "new":
      if (rest.length !== 1) throw new UsageError("new takes the new pack's id");
      return scaffold(config, rest[0] as string, values.dir ?? config.gradersDir);
    case "impact": {
      if (rest.length !== 1) throw new UsageError("impact takes one pack folder");
      const token = values.token ?? config.adminToken;
      if (values.server === undefined || token === "") throw new UsageError("impact needs --server URL and --token T (or ADMIN_TOKEN)");
      const scope = values.scope ?? "latest";
      if (scope !== "latest" && scope !== "all") throw new UsageError("--scope is latest or all");
      const first = values.first === undefined ? 10 : Number(values.first);
      if (!Number.isInteger(first) || first < 0) throw new UsageError("--first is a whole number");
      try {
        return await impact({ dir: rest[0] as string, server: values.server, token, scope, first, json: values.json === true, write, ...(values.assignment !== undefined ? { assignment: values.assignment } : {}) });
      } catch (error) {
        if (!(error instanceof ImpactError)) throw error;
        process.stderr.write(`gradebox-pack impact: ${error.message}\n`);
        return 1;
      }
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"))) {
      process.stderr.write(`gradebox-pack: ${error.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`gradebox-pack: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
