import type { Limits } from "../config.js";
import { check } from "../grading/compare.js";
import { failedCaseIds } from "../grading/failed-cases.js";
import { grade, type GradeOptions } from "../grading/grade.js";
import { casesToRun } from "../grading/job.js";
import type { Feedback } from "../grading/feedback.js";
import { judge } from "../grading/verdicts.js";
import { display, expectedType, plainJson } from "../grading/values.js";
import { lowerLimits } from "../limits.js";
import type { JobReport } from "../sandbox/pool.js";
import { defaultBudgetSettings, learnBudgets, type BudgetSettings } from "./budgets.js";
import { isFileMutant, mutantDescription, mutantId, mutantLocation, mutantSource } from "./mutants.js";
import { parsePack } from "./pack.js";
import type { CaseBudgets, GradablePack, Pack, PackFiles } from "./types.js";
import type { PackProblem } from "./problems.js";

/**
 * A pack carries its own proof, and it is run before the pack can go live (at start, on install,
 * and by `gradebox-pack validate`): the reference passes every case, every mutant fails at least one
 * (and one of each exercise it names), and the starter loads. The reference's run also yields the
 * expected values of cases that expect {"reference": true}.
 */

export interface SelfTestReport {
  reference: { file: string; passed: number; total: number };
  /** `file` for a whole-file mutant; `from` for one made by replacements in the reference. */
  mutants: Array<{ id: string; file?: string; from?: string; description: string; score: number; maxScore: number; failedCases: string[] }>;
  starter: { file: string; loaded: boolean; reason?: string };
}

export interface PreparedPack {
  gradable?: GradablePack;
  problems: PackProblem[];
  selfTest?: SelfTestReport;
}

async function runReference(pack: Pack, limits: Limits, options: GradeOptions): Promise<{ values: Map<string, unknown>; problems: PackProblem[]; passed: number; report: JobReport }> {
  const file = pack.assignment.reference;
  const source = pack.files.get(file) ?? "";
  const values = new Map<string, unknown>();
  // The reference runs as a submission would; its raw outcomes then give the expected values and,
  // judged in full (hidden cases too), what an instructor needs to read when it fails a case.
  const { feedback, report, cases } = await grade({ pack, referenceValues: values, limits }, source, limits, { ...options, internal: true });
  const problems: PackProblem[] = [];
  if (report.load.kind !== "loaded") {
    problems.push({ file, path: "", message: `does not load: ${feedback.reason?.message ?? report.load.kind}` });
    return { values, problems, passed: 0, report };
  }
  let passed = 0;
  cases.forEach((testCase, index) => {
    const outcome = report.calls[index]?.outcome;
    if (outcome?.kind !== "value") {
      const { message } = judge(testCase, outcome ?? { kind: "not-run", reason: "sandbox-lost" }, undefined, { ...limits, resultMaxDepth: options.resultMaxDepth });
      problems.push({ file: testCase.file, path: "", message: `the reference solution does not return a value here: ${message}` });
      return;
    }
    let referenceValue: unknown;
    if (testCase.expect.reference === true) {
      const plain = plainJson(outcome.value);
      if (plain === undefined || expectedType(plain.value) === undefined) {
        problems.push({ file: testCase.file, path: "/expect/reference", message: `the reference returns ${display(outcome.value)}, which cannot be an expected value` });
        return;
      }
      referenceValue = plain.value;
      values.set(testCase.id, referenceValue);
    }
    const result = check(testCase.expect, outcome.value, referenceValue);
    if (!result.pass) {
      problems.push({ file: testCase.file, path: "/expect", message: `the reference solution fails this case: ${result.reason}` });
      return;
    }
    const call = report.calls[index];
    const verdict = judge(testCase, outcome, referenceValue, { ...limits, resultMaxDepth: options.resultMaxDepth }, undefined, { ...(call?.checks !== undefined ? { checks: call.checks } : {}), printed: call?.output ?? "" });
    if (verdict.status === "passed") passed++;
    else {
      const where = verdict.errorKind === "wrong_output" ? "/output" : "/argsAfter";
      // The reference's call is a public one here (jobFor keeps public output only), so say what it printed.
      problems.push({ file: testCase.file, path: where, message: `the reference solution fails this case: expected ${verdict.expected ?? "?"}, ${verdict.received ?? "?"}` });
    }
  });
  return { values, problems, passed, report };
}

/** Runs `tasks` with at most `width` in flight, keeping their order. */
async function inBatches<T>(tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await (tasks[index] as () => Promise<T>)();
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, width) }, lane));
  return results;
}

/** What preparing a pack needs beyond grading: how wide to grade, and how to learn budgets. */
export type SelfTestOptions = GradeOptions & { concurrency: number; budget?: BudgetSettings };

export async function selfTest(pack: Pack, limits: Limits, options: SelfTestOptions): Promise<{ problems: PackProblem[]; referenceValues: Map<string, unknown>; budgets?: CaseBudgets; report: SelfTestReport }> {
  const reference = await runReference(pack, limits, options);
  const problems = [...reference.problems];
  // The reference runs BUDGET_RUNS times in all; the medians of its CPU times set the budgets that the
  // mutants and the starter are then graded with, as submissions will be.
  let budgets: CaseBudgets | undefined;
  if (reference.problems.length === 0) {
    const settings = options.budget ?? defaultBudgetSettings;
    const unbudgeted: GradablePack = { pack, referenceValues: reference.values, limits };
    const source = pack.files.get(pack.assignment.reference) ?? "";
    const more = await inBatches(Array.from({ length: settings.runs - 1 }, () => () => grade(unbudgeted, source, limits, { ...options, internal: true }).then((r) => r.report)), options.concurrency);
    // Reports list calls in grading order (public cases first), not the pack's order.
    budgets = learnBudgets([reference.report, ...more], casesToRun(pack), limits, settings);
  }
  const gradable: GradablePack = { pack, referenceValues: reference.values, limits, ...(budgets !== undefined ? { budgets } : {}) };
  const { mutants, starter } = pack.assignment;
  const gradeSource = (source: string) => grade(gradable, source, limits, { ...options, internal: true }).then((r) => r.feedback);
  // parsePack has checked that every mutant can be made, so mutantSource only falls back in theory.
  const feedbacks = await inBatches([
    ...mutants.map((m) => () => gradeSource(mutantSource(m, pack.files) ?? "")),
    () => gradeSource(pack.files.get(starter) ?? ""),
  ], options.concurrency);
  const report: SelfTestReport = {
    reference: { file: pack.assignment.reference, passed: reference.passed, total: pack.cases.length },
    mutants: [],
    starter: { file: starter, loaded: true },
  };
  // Mutants can only be judged against a reference that passes.
  const judgeMutants = reference.problems.length === 0;
  mutants.forEach((mutant, i) => {
    const feedback = feedbacks[i] as Feedback;
    const failedCases = failedCaseIds(pack, feedback);
    const id = mutantId(mutant);
    const description = mutantDescription(mutant);
    const origin = isFileMutant(mutant) ? { file: mutant.file } : { from: mutant.from };
    report.mutants.push({ id, ...origin, description, score: feedback.score, maxScore: feedback.maxScore, failedCases });
    if (!judgeMutants) return;
    const where = mutantLocation(mutant, i);
    // A whole-file mutant's problems point at its file; a replacement mutant's at its entry, and say its id.
    const who = isFileMutant(mutant) ? "" : `mutant '${id}' `;
    if (feedback.status === "rejected") {
      problems.push({ ...where, message: `${who}does not load (${feedback.reason?.message ?? "rejected"}): a mutant must load so that the cases, not the loader, catch it` });
      return;
    }
    if (failedCases.length === 0) {
      problems.push({ ...where, message: `${who}passes every case, so the cases do not catch this mistake: ${description}` });
      return;
    }
    for (const name of mutant.mustFail ?? []) {
      const exercise = feedback.exercises.find((e) => e.name === name);
      if (exercise?.passed === true) problems.push({ ...where, message: `${who}passes every case of ${name}, which it must fail: ${description}` });
    }
  });
  const starterFeedback = feedbacks[mutants.length] as Feedback;
  if (starterFeedback.status === "rejected") {
    report.starter = { file: starter, loaded: false, reason: starterFeedback.reason?.message ?? "rejected" };
    problems.push({ file: starter, path: "", message: `does not load: ${starterFeedback.reason?.message ?? "rejected"}` });
  }
  return { problems, referenceValues: reference.values, ...(budgets !== undefined ? { budgets } : {}), report };
}

/** Everything that stands between a pack's files and grading: parse, validate, self-test. */
export async function preparePack(
  files: PackFiles,
  expectedId: string | undefined,
  serviceLimits: Limits,
  options: SelfTestOptions & { parse?: (files: PackFiles, expectedId?: string) => Promise<{ pack?: Pack; problems: PackProblem[] }> },
): Promise<PreparedPack> {
  const { pack, problems } = options.parse === undefined ? parsePack(files, expectedId) : await options.parse(files, expectedId);
  if (pack === undefined) return { problems };
  const limits = lowerLimits(serviceLimits, pack.assignment.limits);
  const tested = await selfTest(pack, limits, options);
  if (tested.problems.length > 0) return { problems: tested.problems, selfTest: tested.report };
  return { gradable: { pack, referenceValues: tested.referenceValues, limits, ...(tested.budgets !== undefined ? { budgets: tested.budgets } : {}) }, problems: [], selfTest: tested.report };
}
