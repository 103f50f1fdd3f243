/** What a summary reads of the feedback: exercises' names and their tests' visibility and status. */
export interface SummaryInput {
  name: string;
  tests: ReadonlyArray<{ visibility: "public" | "hidden"; status: string }>;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * One sentence on the whole grading. It says "All tests passed." only when every test, hidden ones
 * included, passed: a student must never read that while a hidden test fails. Every format uses it.
 */
export function summarize(exercises: readonly SummaryInput[], rejection?: { code: string; message: string } | "rejected"): string {
  if (rejection === "rejected") return "Not graded: the module could not be loaded.";
  if (rejection !== undefined) return `Not graded: the module could not be loaded (${rejection.code}).`;
  const tests = exercises.flatMap((e) => e.tests.map((t) => ({ ...t, exercise: e.name })));
  if (tests.length === 0) return "No tests ran.";
  const failed = (visibility: "public" | "hidden") => tests.filter((t) => t.visibility === visibility && t.status !== "passed");
  const publicFailed = failed("public");
  const hiddenFailed = failed("hidden");
  const hiddenTotal = tests.filter((t) => t.visibility === "hidden").length;
  const publicTotal = tests.length - hiddenTotal;
  const where = (list: typeof tests) => [...new Set(list.map((t) => t.exercise))].join(", ");
  if (publicFailed.length === 0 && hiddenFailed.length === 0) return "All tests passed.";
  const hidden = hiddenFailed.length === 0
    ? hiddenTotal === 0 ? "" : `; ${hiddenTotal === 1 ? "the hidden test" : `all ${hiddenTotal} hidden tests`} passed`
    : `${publicFailed.length === 0 ? ", but" : "; and"} ${hiddenFailed.length} of ${plural(hiddenTotal, "hidden test")} failed (in ${where(hiddenFailed)})`;
  if (publicFailed.length === 0) {
    if (publicTotal === 0) return `${hiddenFailed.length} of ${plural(hiddenTotal, "hidden test")} failed (in ${where(hiddenFailed)}).`;
    return `${publicTotal === 1 ? "The public test" : `All ${publicTotal} public tests`} passed${hidden}.`;
  }
  return `${publicFailed.length} of ${plural(publicTotal, "public test")} failed (in ${where(publicFailed)})${hidden}.`;
}
