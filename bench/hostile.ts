/**
 * The submissions bench.ts sends, each with the verdict it should get. A verdict is a
 * short normalised text read from the feedback, so that "as expected" is plain string equality.
 */
import { honestOutcome, referenceSource, type Graded } from "./lib.js";

export interface Kind {
  id: string;
  name: string;
  /** The source of submission number i (a comment makes every source distinct). */
  source: (i: number) => string;
  expected: string;
  /** The verdict the feedback shows, in the same words as `expected`. */
  verdict: (r: Graded) => string;
  /** Whether a verdict is the one expected, where more than one is (default: equal to `expected`). */
  accepts?: (verdict: string) => boolean;
}

/** Whether `verdict` is what `kind` should get. */
export function asExpected(kind: Kind, verdict: string): boolean {
  return kind.accepts !== undefined ? kind.accepts(verdict) : verdict === kind.expected;
}

const reference = referenceSource();

function patch(i: number, exportName: string, body: string): string {
  const signature = `export function ${exportName}(x, theta) {`;
  if (!reference.includes(signature)) throw new Error(`the reference solution has no "${signature}"`);
  return `${reference.replace(signature, `${signature}\n  ${body}`)}\n// submission ${i}\n`;
}

function testOf(r: Graded, id: string): { status: string; message: string } | undefined {
  return r.feedback?.exercises.flatMap((e) => e.tests).find((t) => t.id === id);
}

/** "graded, <test>: <status>" (or the HTTP/transport problem). */
function testVerdict(id: string, detail?: (message: string) => string) {
  return (r: Graded): string => {
    if (r.status !== 200) return honestOutcome(r);
    const t = testOf(r, id);
    const extra = t !== undefined && detail !== undefined ? detail(t.message) : "";
    return `${r.feedback?.status}, ${id}: ${t?.status ?? "missing"}${extra}`;
  };
}

export const honest: Kind = {
  id: "honest",
  name: "honest (reference solution)",
  source: (i) => `${reference}\n// submission ${i}\n`,
  expected: "ok",
  verdict: honestOutcome,
};

export const loopInExport: Kind = {
  id: "loop-export",
  name: "infinite loop in an export",
  // forward_propagation(2, …) is reached by forward-notebook and by gradient_check(2, 4).
  source: (i) => patch(i, "forward_propagation", "if (x === 2) for (;;) {}"),
  expected: "graded, forward-notebook: timeout",
  verdict: testVerdict("forward-notebook"),
};

export const loopAtTopLevel: Kind = {
  id: "loop-top",
  name: "top-level infinite loop",
  source: (i) => `for (;;) {}\n${reference}\n// submission ${i}\n`,
  expected: "rejected: module_timeout",
  verdict: (r) => (r.status !== 200 ? honestOutcome(r) : `${r.feedback?.status}: ${r.feedback?.reason?.code ?? "-"}`),
};

/**
 * A call that fills memory: `new Array(1e8)` is a dictionary-mode array, so `fill` grows it entry by entry and
 * the heap limit (ISOLATE_MEMORY_MB) comes only after some time. With budgets learnt from the reference
 * (BUDGETS=learnt), the call's CPU budget (50 ms here) usually stops it first; without them, the heap limit
 * usually comes before the 1 s call limit, but on a loaded machine with --jitless workers the call limit can
 * come first (seen in `npm run bench` at a load average of 20). Either is the bomb contained, so either is
 * expected; the verdict keeps which limit stopped it. Whether budgets apply is the measured service's setting
 * (ServiceInfo.settings.budgets), not this process's environment: one bench run measures both.
 */
export function memoryBomb(budgeted: boolean): Kind {
  return {
    id: "memory-bomb",
    name: budgeted ? "memory bomb (stopped at its budget, or aborts the worker)" : "memory bomb (aborts the worker, or meets the call limit)",
    source: (i) => patch(i, "forward_propagation", "new Array(1e8).fill(0);"),
    expected: "graded, forward-notebook: memory or timeout",
    verdict: testVerdict("forward-notebook"),
    accepts: (verdict) => verdict === "graded, forward-notebook: memory" || verdict === "graded, forward-notebook: timeout",
  };
}

export const hugeReturn: Kind = {
  id: "huge-return",
  name: "huge return value",
  source: (i) => patch(i, "backward_propagation", "return new Array(1e6).fill(0.5);"),
  expected: "graded, backward-notebook: failed (too large)",
  verdict: testVerdict("backward-notebook", (m) => (/larger than/.test(m) ? " (too large)" : ` ("${m.slice(0, 60)}")`)),
};

/** A console flood: stopped at its CPU budget under BUDGETS=learnt, else truncated (see memoryBomb). */
export function consoleFlood(budgeted: boolean): Kind {
  return {
    id: "console-flood",
    name: "console flood",
    source: (i) => patch(i, "forward_propagation", `for (let i = 0; i < 20000; i++) console.log("flood", i, "${"x".repeat(80)}");`),
    expected: budgeted ? "graded, forward-notebook: timeout" : "ok, output truncated",
    verdict: (r) => {
      if (budgeted) return testVerdict("forward-notebook")(r);
      const outcome = honestOutcome(r);
      return outcome !== "ok" ? outcome : r.feedback?.outputTruncated === true ? "ok, output truncated" : "ok, output NOT truncated";
    },
  };
}

export const spinningGetter: Kind = {
  id: "spinning-getter",
  name: "thrown object, spinning message getter",
  // backward_propagation(3, …) is reached by backward-notebook and by gradient_check(3, 4, …).
  source: (i) => patch(i, "backward_propagation", "if (x === 3) throw { get message() { for (;;) {} } };"),
  expected: "graded, backward-notebook: timeout",
  verdict: testVerdict("backward-notebook"),
};

export const loopInEveryCall: Kind = {
  id: "loop-every-call",
  name: "infinite loop in every call",
  source: (i) => patch(i, "forward_propagation", "for (;;) {}"),
  expected: "graded, forward tests: timeout",
  verdict: (r) => {
    if (r.status !== 200) return honestOutcome(r);
    const statuses = new Set(r.feedback?.exercises.find((e) => e.name === "forward_propagation")?.tests.map((t) => t.status));
    return `${r.feedback?.status}, forward tests: ${[...statuses].join("/")}`;
  },
};

/** Every hostile kind above that comes back with a verdict within the limits (not the loop in every call). */
export function hostileMix(budgeted: boolean): Kind[] {
  return [loopInExport, loopAtTopLevel, memoryBomb(budgeted), hugeReturn, consoleFlood(budgeted), spinningGetter];
}

/** The hostile kinds of `npm run bench`'s attack (one submission in ten), for a service with or without budgets. */
export function attackKinds(budgeted: boolean): Kind[] {
  return [loopAtTopLevel, loopInExport, memoryBomb(budgeted)];
}
