import type { Pack } from "../packs/types.js";
import type { Feedback } from "./feedback.js";

/** The case ids (not the ids students see) of the tests that did not pass, for instructors' tools. */
export function failedCaseIds(pack: Pack, feedback: Feedback): string[] {
  return feedback.exercises.flatMap((exercise) => {
    const cases = pack.cases.filter((c) => c.exercise === exercise.name);
    return exercise.tests.flatMap((test, i) => (test.status === "passed" ? [] : [cases[i]?.id ?? test.id]));
  });
}
