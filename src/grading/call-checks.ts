import type { CallOutcome } from "../sandbox/outcomes.js";
import { sameValue } from "./compare.js";
import type { CallChecks, CheckVerdicts } from "../sandbox/protocol.js";
import { outputMatches } from "./output.js";

/**
 * The checks of one call beyond its returned value: what it printed, and what became of its arguments.
 * They run in the grading worker (outside the isolate, on the copies the call received), so that for a
 * hidden case only the verdicts leave it, never the printed text or the arguments.
 */

export function runCallChecks(checks: CallChecks, argsJson: string, outcome: CallOutcome, printed: string, dropped: number): CheckVerdicts | undefined {
  if (outcome.kind !== "value") return undefined;
  const verdicts: CheckVerdicts = {};
  if (checks.argsAfter !== undefined) {
    const { unchanged, value, rtol = 0, atol = 0 } = checks.argsAfter;
    // Arguments as the call received them: the case's JSON, with {"$number": …} still encoded, which sameValue reads.
    const expected = unchanged === true ? (JSON.parse(argsJson) as unknown[]) : value;
    verdicts.args = outcome.args !== undefined && expected !== undefined
      && sameValue(expected, outcome.args, unchanged === true ? 0 : rtol, unchanged === true ? 0 : atol).equal;
  }
  if (checks.output !== undefined) verdicts.output = outputMatches(checks.output, printed, dropped, outcome.value);
  return verdicts;
}
