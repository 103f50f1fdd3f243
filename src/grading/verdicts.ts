import type { Case } from "../packs/types.js";
import type { CallOutcome, LoadOutcome, ThrownError } from "../sandbox/outcomes.js";
import { check, describeExpectation, toleranceUsed } from "./compare.js";
import type { ErrorKind, Rejection, SourceLocation, TestFeedback, TestStatus } from "./feedback.js";
import { checkedPosition, errorKindOf, findImport, locate, studentStack } from "./locations.js";
import { display } from "./values.js";
import type { CheckVerdicts } from "../sandbox/protocol.js";
import { describeOutputExpectation, visibleControls, withoutFinalNewline } from "./output.js";

/**
 * Turns what happened in the sandbox into what a student reads. A hidden case shows one fixed
 * sentence and a hint chosen by the exercise, never by the case: nothing that depends on its
 * arguments, expected value, the returned value, the error's message, its timing or its output can
 * reach a student, and its status is only passed or failed (how it failed would tell something).
 */

export const HIDDEN_FAILED = "Hidden test failed.";
/** What every test of a module that could not be loaded says: none of them ran. */
export const NOT_LOADED = "Not run: the module could not be loaded.";
export const DEFAULT_HIDDEN_HINT =
  "Hidden tests call the function with other arguments than the public tests. Check that it follows the exercise's instructions for every input, not only the examples.";

export interface ResultLimits {
  resultKiB: number;
  resultMaxDepth: number;
  submissionWallMs: number;
}

/** How the student's file is named in messages and stacks ("submission.ts" for TypeScript). */
export interface SourceName {
  fileName: string;
  /** The source the student sent (TypeScript before stripping), to point at an import. */
  text: string;
}

interface Judgement extends SourceLocation {
  status: TestStatus;
  message: string;
  detail?: string;
  errorKind?: ErrorKind;
  expected?: string;
  received?: string;
  tolerance?: string;
}

function errorText(error: ThrownError, source: SourceName): string {
  const { line, column } = locate(error.stack, source.text);
  const head = error.name !== "" && error.message !== "" ? `${error.name}: ${error.message}` : error.message || error.name || "an exception";
  if (line === undefined) return head;
  return column === undefined ? `${head} (line ${line})` : `${head} (line ${line}, column ${column})`;
}

/** Kind, line, column and student frames of a thrown error. */
function thrown(error: ThrownError, source: SourceName): SourceLocation & { errorKind: ErrorKind } {
  const where: SourceLocation & { errorKind: ErrorKind } = { errorKind: errorKindOf(error.name), ...locate(error.stack, source.text) };
  const stack = studentStack(error.stack, source.fileName);
  if (stack !== "") where.stack = stack;
  return where;
}

/** What the worker checked of a call besides its value, and the call's own printed text (public cases). */
export interface CallExtras {
  checks?: CheckVerdicts;
  printed?: string;
}

/**
 * The verdict on a call whose value passed, from the worker's checks of its arguments and its output.
 * A check the worker did not report counts as failed: a pass is never assumed.
 */
function judgeChecks(testCase: Case, outcome: Extract<CallOutcome, { kind: "value" }>, extras: CallExtras): Judgement {
  const { checks, printed = "" } = extras;
  if (testCase.argsAfter !== undefined && checks?.args !== true) {
    const custom = testCase.messages?.argsChanged;
    const detail = testCase.argsAfter.unchanged === true
      ? `Arguments changed: ${testCase.exercise} modified the arguments it was given.`
      : `Arguments not updated as expected: after the call, the arguments are not the expected ones.`;
    const judgement: Judgement = {
      status: "failed",
      errorKind: "arguments_changed",
      message: custom ?? detail,
      ...(custom !== undefined ? { detail } : {}),
      expected: testCase.argsAfter.unchanged === true ? "the arguments left unchanged" : `the arguments after the call equal to ${display(testCase.argsAfter.value)}`,
    };
    if (outcome.args !== undefined) judgement.received = `the arguments after the call: ${display(outcome.args)}`;
    return judgement;
  }
  if (testCase.output !== undefined && checks?.output !== true) {
    const custom = testCase.messages?.wrongOutput;
    const detail = "Wrong output: the returned value is right, but the printed text is not the expected one.";
    return {
      status: "failed",
      errorKind: "wrong_output",
      message: custom ?? detail,
      ...(custom !== undefined ? { detail } : {}),
      expected: describeOutputExpectation(testCase.output, outcome.value),
      received: printed === "" ? "printed nothing" : `printed: "${visibleControls(withoutFinalNewline(printed))}"`,
    };
  }
  return { status: "passed", message: "Passed." };
}

/** The full verdict on one call, as a public case would show it (instructors' tools use it for hidden ones too). */
export function judge(testCase: Case, outcome: CallOutcome, referenceValue: unknown, limits: ResultLimits, source: SourceName = { fileName: "submission.js", text: "" }, extras: CallExtras = {}): Judgement {
  const name = testCase.exercise;
  switch (outcome.kind) {
    case "value": {
      const result = check(testCase.expect, outcome.value, referenceValue);
      if (result.pass) return judgeChecks(testCase, outcome, extras);
      const custom = result.kind === "type" ? testCase.messages?.wrongType : testCase.messages?.wrongValue;
      const detail = result.kind === "type" ? `Wrong type: ${result.reason}.` : `Wrong value: ${result.reason}.`;
      const judgement: Judgement = {
        status: "failed",
        errorKind: result.kind === "type" ? "wrong_return_type" : "wrong_value",
        // The notebook's own words when the case has them, and the service's precise reason beside them.
        message: custom ?? detail,
        ...(custom !== undefined ? { detail } : {}),
        expected: describeExpectation(testCase.expect, referenceValue),
        received: display(outcome.value),
      };
      const tolerance = toleranceUsed(testCase.expect, referenceValue);
      if (tolerance !== undefined) judgement.tolerance = tolerance;
      return judgement;
    }
    case "threw": {
      const where = thrown(outcome.error, source);
      if (outcome.during === "result") return { status: "error", ...where, message: `Reading the value ${name} returned threw ${errorText(outcome.error, source)}` };
      if (outcome.during === "load") return { status: "error", ...where, message: `The export ${name} could not be read: ${errorText(outcome.error, source)}` };
      return { status: "error", ...where, message: `${name} threw ${errorText(outcome.error, source)}` };
    }
    case "missing":
      return { status: "error", errorKind: "missing_export", message: `The submission does not export a function named ${name} (found ${outcome.type}).` };
    case "unserializable":
      return {
        status: "failed",
        errorKind: "result_too_large",
        message: outcome.reason === "too-large"
          ? `${name} returned a value larger than ${limits.resultKiB} KiB.`
          : `${name} returned a value nested deeper than ${limits.resultMaxDepth} levels.`,
      };
    case "never-settled":
      return { status: "timeout", errorKind: "timeout", message: `${name} returned a promise that never settles.` };
    case "timeout":
      return { status: "timeout", errorKind: "timeout", message: `${name} did not finish within ${outcome.limitMs} ms.` };
    case "memory":
      return { status: "memory", errorKind: "memory_limit", message: `${name} ran out of memory (limit ${outcome.limitMb} MB).` };
    case "crashed":
      return { status: "error", errorKind: "sandbox_error", message: "The sandbox stopped while running this test." };
    case "not-run":
      if (outcome.reason === "budget") return { status: "timeout", errorKind: "timeout", message: `Not run: the submission used up its time budget of ${limits.submissionWallMs} ms before this test.` };
      if (outcome.reason === "skipped") return { status: "timeout", errorKind: "timeout", message: `Not run: an earlier test of ${name} timed out, and ${name} is scored all or nothing.` };
      return { status: "error", errorKind: "sandbox_error", message: "Not run: an earlier test exhausted the sandbox (time or memory)." };
  }
}

/**
 * A hidden test is named by its exercise and rank ("gradient_check-hidden-2"), not by its case id:
 * instructors name cases after what they test ("gradient-check-large-theta"), which is a hint.
 */
export function hiddenTestId(exercise: string, rank: number): string {
  return `${exercise}-hidden-${rank}`;
}

export interface TestContext {
  hiddenRank: number;
  /** The exercise's hint for its hidden tests (the pack's, or the default). */
  hiddenHint: string;
  output: string;
  durationMs?: number;
  referenceValue: unknown;
  limits: ResultLimits;
  source: SourceName;
  /** The worker's checks of output and arguments, and the call's whole printed text (public cases). */
  extras?: CallExtras;
}

export function testFeedback(testCase: Case, outcome: CallOutcome, context: TestContext): TestFeedback {
  const judgement = judge(testCase, outcome, context.referenceValue, context.limits, context.source, context.extras);
  if (testCase.visibility === "hidden") {
    const id = hiddenTestId(testCase.exercise, context.hiddenRank);
    if (judgement.status === "passed") return { id, visibility: "hidden", status: "passed", message: "Passed." };
    return { id, visibility: "hidden", status: "failed", message: HIDDEN_FAILED, hint: context.hiddenHint };
  }
  const { status, message, ...details } = judgement;
  const feedback: TestFeedback = { id: testCase.id, visibility: "public", status, message };
  if (testCase.description !== undefined) feedback.description = testCase.description;
  Object.assign(feedback, details);
  if (context.output !== "") feedback.output = context.output;
  if (context.durationMs !== undefined) feedback.durationMs = Math.round(context.durationMs * 10) / 10;
  return feedback;
}

export function rejection(outcome: Exclude<LoadOutcome, { kind: "loaded" }>, allowedImports: string[], source: SourceName): Rejection {
  switch (outcome.kind) {
    case "syntax-error": {
      const reason: Rejection = { code: "syntax_error", errorKind: "syntax_error", message: `SyntaxError: ${outcome.message}` };
      return { ...reason, ...checkedPosition(outcome.line, outcome.column, source.text) };
    }
    case "forbidden-import": {
      const allowed = allowedImports.length === 0 ? "nothing" : allowedImports.map((s) => `"${s}"`).join(", ");
      return { code: "forbidden_import", errorKind: "forbidden_import", ...findImport(source.text, outcome.specifier), message: `Cannot import "${outcome.specifier}": a submission may only import ${allowed}.` };
    }
    case "link-error":
      return { code: "link_error", errorKind: "sandbox_error", message: outcome.message };
    case "threw":
      return { code: "module_threw", ...thrown(outcome.error, source), message: `The module's top-level code threw ${errorText(outcome.error, source)}` };
    case "never-settled":
      return { code: "module_never_settled", errorKind: "timeout", message: "The module's top-level await never settles." };
    case "timeout":
      return { code: "module_timeout", errorKind: "timeout", message: `The module's top-level code did not finish within ${outcome.limitMs} ms.` };
    case "memory":
      return { code: "module_memory", errorKind: "memory_limit", message: `The module's top-level code ran out of memory (limit ${outcome.limitMb} MB).` };
    case "crashed":
      return { code: "sandbox_crashed", errorKind: "sandbox_error", message: "The sandbox stopped while loading the module." };
    case "unsupported-typescript":
      return { code: "unsupported_typescript", errorKind: "unsupported_typescript", message: outcome.message, line: outcome.line, column: outcome.column };
  }
}
