import type { Case } from "../graders/pack.js";
import type { CallOutcome, LoadOutcome, ThrownError } from "../sandbox/outcomes.js";
import { SUBMISSION_URL } from "../sandbox/constants.js";
import { check, describeExpectation } from "./compare.js";
import type { Rejection, TestFeedback, TestStatus } from "./feedback.js";
import { display } from "./values.js";

/**
 * Turns what happened in the sandbox into what a student reads. Hidden cases get one fixed sentence
 * per status: nothing that depends on the case's arguments, expected value, the returned value, the
 * error's message or the output can reach a student through a hidden case.
 */

const HIDDEN_MESSAGES: Record<TestStatus, string> = {
  passed: "Passed.",
  failed: "Hidden test failed: the returned value is not the expected one.",
  error: "Hidden test failed: the function threw an error or could not be called.",
  timeout: "Hidden test failed: the function did not finish in time.",
  memory: "Hidden test failed: the function ran out of memory.",
};

export interface ResultLimits {
  resultKiB: number;
  resultMaxDepth: number;
  submissionWallMs: number;
}

/** Where in the submission an error was thrown, from the first stack frame in the submission. */
export function locate(stack: string): { line?: number; column?: number } {
  const pattern = new RegExp(`${SUBMISSION_URL.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:(\\d+):(\\d+)`);
  const match = pattern.exec(stack);
  return match === null ? {} : { line: Number(match[1]), column: Number(match[2]) };
}

function errorText(error: ThrownError): string {
  const { line, column } = locate(error.stack);
  const head = error.name !== "" && error.message !== "" ? `${error.name}: ${error.message}` : error.message || error.name || "an exception";
  return line === undefined ? head : `${head} (line ${line}, column ${column})`;
}

interface Judgement {
  status: TestStatus;
  message: string;
  expected?: string;
  received?: string;
}

/** The full verdict on one call, as a public case would show it (instructors' tools use it for hidden ones too). */
export function judge(testCase: Case, outcome: CallOutcome, referenceValue: unknown, limits: ResultLimits): Judgement {
  const name = testCase.exercise;
  switch (outcome.kind) {
    case "value": {
      const result = check(testCase.expect, outcome.value, referenceValue);
      if (result.pass) return { status: "passed", message: "Passed." };
      const custom = result.kind === "type" ? testCase.messages?.wrongType : testCase.messages?.wrongValue;
      return {
        status: "failed",
        message: custom ?? (result.kind === "type" ? `Wrong type: ${result.reason}.` : `Wrong value: ${result.reason}.`),
        expected: describeExpectation(testCase.expect, referenceValue),
        received: display(outcome.value),
      };
    }
    case "threw":
      if (outcome.during === "result") return { status: "error", message: `Reading the value ${name} returned threw ${errorText(outcome.error)}` };
      if (outcome.during === "load") return { status: "error", message: `The export ${name} could not be read: ${errorText(outcome.error)}` };
      return { status: "error", message: `${name} threw ${errorText(outcome.error)}` };
    case "missing":
      return { status: "error", message: `The submission does not export a function named ${name} (found ${outcome.type}).` };
    case "unserializable":
      return {
        status: "failed",
        message: outcome.reason === "too-large"
          ? `${name} returned a value larger than ${limits.resultKiB} KiB.`
          : `${name} returned a value nested deeper than ${limits.resultMaxDepth} levels.`,
      };
    case "never-settled":
      return { status: "timeout", message: `${name} returned a promise that never settles.` };
    case "timeout":
      return { status: "timeout", message: `${name} did not finish within ${outcome.limitMs} ms.` };
    case "memory":
      return { status: "memory", message: `${name} ran out of memory (limit ${outcome.limitMb} MB).` };
    case "crashed":
      return { status: "error", message: "The sandbox stopped while running this test." };
    case "not-run":
      return outcome.reason === "budget"
        ? { status: "timeout", message: `Not run: the submission used up its time budget of ${limits.submissionWallMs} ms.` }
        : { status: "error", message: "Not run: an earlier test exhausted the sandbox (time or memory)." };
  }
}

/**
 * A hidden test is named by its exercise and rank ("gradient_check-hidden-2"), not by its case id:
 * instructors name cases after what they test ("gradient-check-large-theta"), which is a hint.
 */
export function hiddenTestId(exercise: string, rank: number): string {
  return `${exercise}-hidden-${rank}`;
}

export function testFeedback(testCase: Case, hiddenRank: number, outcome: CallOutcome, output: string, referenceValue: unknown, limits: ResultLimits): TestFeedback {
  const judgement = judge(testCase, outcome, referenceValue, limits);
  if (testCase.visibility === "hidden") {
    return { id: hiddenTestId(testCase.exercise, hiddenRank), visibility: "hidden", status: judgement.status, message: HIDDEN_MESSAGES[judgement.status] };
  }
  const feedback: TestFeedback = { id: testCase.id, visibility: "public", status: judgement.status, message: judgement.message };
  if (testCase.description !== undefined) feedback.description = testCase.description;
  if (judgement.expected !== undefined) feedback.expected = judgement.expected;
  if (judgement.received !== undefined) feedback.received = judgement.received;
  if (output !== "") feedback.output = output;
  return feedback;
}

export function rejection(outcome: Exclude<LoadOutcome, { kind: "loaded" }>, allowedImports: string[]): Rejection {
  switch (outcome.kind) {
    case "syntax-error": {
      const reason: Rejection = { code: "syntax_error", message: `SyntaxError: ${outcome.message}` };
      if (outcome.line !== undefined) reason.line = outcome.line;
      if (outcome.column !== undefined) reason.column = outcome.column;
      return reason;
    }
    case "forbidden-import": {
      const allowed = allowedImports.length === 0 ? "nothing" : allowedImports.map((s) => `"${s}"`).join(", ");
      return { code: "forbidden_import", message: `Cannot import "${outcome.specifier}": a submission may only import ${allowed}.` };
    }
    case "link-error":
      return { code: "link_error", message: outcome.message };
    case "threw":
      return { code: "module_threw", message: `The module's top-level code threw ${errorText(outcome.error)}`, ...locate(outcome.error.stack) };
    case "never-settled":
      return { code: "module_never_settled", message: "The module's top-level await never settles." };
    case "timeout":
      return { code: "module_timeout", message: `The module's top-level code did not finish within ${outcome.limitMs} ms.` };
    case "memory":
      return { code: "module_memory", message: `The module's top-level code ran out of memory (limit ${outcome.limitMb} MB).` };
    case "crashed":
      return { code: "sandbox_crashed", message: "The sandbox stopped while loading the module." };
  }
}
