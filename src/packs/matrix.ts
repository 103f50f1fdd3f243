import type { FromSchema } from "json-schema-to-ts";
import type { caseMatrixSchema } from "../generated/schemas.js";
import type { SelfTestReport } from "./self-test.js";
import type { GradablePack } from "./types.js";

/**
 * The case × mutant matrix of a pack: which cases fail which mutants, what each case costs the reference
 * and the budget that sets, which cases carry the grading and which only cost time. Everything in it comes
 * from the pack's self-test (which already grades the reference BUDGET_RUNS times and every mutant), so it
 * costs no grading of its own; only correct variants, when given, are graded for it (gradebox-pack).
 */

/** The matrix's shape, derived from submissions-schema/api/case-matrix.schema.json (the one source of it). */
export type CaseMatrix = FromSchema<typeof caseMatrixSchema>;

/** A correct variant graded with the pack's budgets: its score and its CPU ms per case id. */
export interface VariantRun {
  name: string;
  score: number;
  maxScore: number;
  cpuMs: Map<string, number>;
}

/** Ratios are shown to two decimals: the JSON is for reading and comparing, not for more precision than a timer has. */
function round(value: number): number {
  return Math.round(value * 100) / 100;
}

export function caseMatrix(gradable: GradablePack, selfTest: SelfTestReport, variants: readonly VariantRun[] = []): CaseMatrix {
  const { pack, limits, budgets } = gradable;
  // A pack goes live only through a self-test that passed, and that one learnt the budgets.
  if (budgets === undefined) throw new Error(`pack ${pack.id} has no learnt budgets`);
  const catchers = new Map<string, string[]>(selfTest.mutants.map((m) => [m.id, m.failedCases]));
  const caught = new Map<string, string[]>(pack.cases.map((c) => [c.id, []]));
  for (const mutant of selfTest.mutants) {
    for (const id of mutant.failedCases) caught.get(id)?.push(mutant.id);
  }
  const soleCatcher = (mutantId: string) => (catchers.get(mutantId) ?? []).length === 1;
  const margins: number[] = [];
  const cases: CaseMatrix["cases"] = pack.cases.map((c) => {
    const catches = caught.get(c.id) ?? [];
    const onlyCatcherOf = catches.filter(soleCatcher);
    const budgetMs = budgets.cases.get(c.id) ?? limits.callTimeoutMs;
    const row: CaseMatrix["cases"][number] = {
      id: c.id,
      exercise: c.exercise,
      visibility: c.visibility,
      costMs: round(budgets.referenceMs.get(c.id) ?? 0),
      budgetMs,
      catches,
      onlyCatcherOf,
      // Every mutant it catches, another case catches too (so one that catches nothing is redundant as well).
      redundant: onlyCatcherOf.length === 0,
    };
    let slowest: { name: string; ms: number } | undefined;
    for (const variant of variants) {
      const ms = variant.cpuMs.get(c.id);
      if (ms !== undefined && (slowest === undefined || ms > slowest.ms)) slowest = { name: variant.name, ms };
    }
    if (slowest !== undefined) {
      // A variant faster than the timer can tell has all the margin there is: budget / 0.01 ms.
      const margin = round(budgetMs / Math.max(slowest.ms, 0.01));
      margins.push(margin);
      row.slowestVariant = { name: slowest.name, ms: round(slowest.ms), margin };
    }
    return row;
  });
  const mutants: CaseMatrix["mutants"] = selfTest.mutants.map((m) => ({
    id: m.id,
    description: m.description,
    score: m.score,
    maxScore: m.maxScore,
    caughtBy: m.failedCases,
    fragile: m.failedCases.length === 1,
  }));
  const totalMs = Math.min(limits.submissionWallMs, cases.reduce((sum, c) => sum + c.budgetMs, 0) + budgets.loadMs);
  const matrix: CaseMatrix = {
    assignment: pack.id,
    assignmentVersion: pack.hash,
    budget: {
      factor: budgets.factor,
      minMs: budgets.minMs,
      maxMs: limits.callTimeoutMs,
      runs: budgets.runs,
      referenceLoadMs: round(budgets.referenceLoadMs),
      loadMs: budgets.loadMs,
      totalMs,
    },
    cases,
    mutants,
    summary: {
      cases: cases.length,
      mutants: mutants.length,
      caught: mutants.filter((m) => m.caughtBy.length > 0).length,
      redundant: cases.filter((c) => c.redundant).length,
      fragile: mutants.filter((m) => m.fragile).length,
      ...(margins.length > 0 ? { minMargin: Math.min(...margins) } : {}),
    },
  };
  if (variants.length > 0) {
    matrix.variants = variants.map((v) => {
      const own = cases.flatMap((c) => {
        const ms = v.cpuMs.get(c.id);
        return ms === undefined ? [] : [round(c.budgetMs / Math.max(ms, 0.01))];
      });
      return { name: v.name, score: v.score, maxScore: v.maxScore, minMargin: own.length > 0 ? Math.min(...own) : 0 };
    });
  }
  return matrix;
}

/** The matrix as an instructor reads it in a terminal: one row per case, one column per mutant. */
export function formatMatrix(matrix: CaseMatrix): string {
  const lines: string[] = [];
  const { summary, budget } = matrix;
  lines.push(`${matrix.assignment} (assignmentVersion ${matrix.assignmentVersion}): ${summary.cases} cases × ${summary.mutants} mutants, ${summary.caught} caught; ${summary.redundant} redundant candidate${summary.redundant === 1 ? "" : "s"}, ${summary.fragile} fragile mutant${summary.fragile === 1 ? "" : "s"}`);
  lines.push(`budgets: ${budget.factor} × the reference's median CPU time over ${budget.runs} run${budget.runs === 1 ? "" : "s"}, at least ${budget.minMs} ms, at most ${budget.maxMs} ms; load ${budget.loadMs} ms (reference ${budget.referenceLoadMs} ms); a submission on every case ${budget.totalMs} ms in all`);
  lines.push("");
  const withMargins = matrix.cases.some((c) => c.slowestVariant !== undefined);
  const idWidth = Math.max(4, ...matrix.cases.map((c) => c.id.length));
  const head = (id: string, vis: string, cost: string, budgetText: string, margin: string) =>
    `${id.padEnd(idWidth)}  ${vis.padEnd(6)}  ${cost.padStart(7)}  ${budgetText.padStart(9)}${withMargins ? `  ${margin.padStart(7)}` : ""}  `;
  const n = matrix.mutants.length;
  const tens = Array.from({ length: n }, (_, i) => String(Math.floor((i + 1) / 10) % 10)).join("");
  const units = Array.from({ length: n }, (_, i) => String((i + 1) % 10)).join("");
  lines.push(`${head("", "", "", "", "")}${tens.replace(/^0+/, (zeros) => " ".repeat(zeros.length))}   mutants`);
  lines.push(`${head("case", "", "cost ms", "budget ms", "margin")}${units}`);
  for (const c of matrix.cases) {
    const caught = new Set(c.catches);
    const only = new Set(c.onlyCatcherOf);
    const cells = matrix.mutants.map((m) => (only.has(m.id) ? "◆" : caught.has(m.id) ? "●" : "·")).join("");
    const margin = c.slowestVariant === undefined ? "" : `×${c.slowestVariant.margin >= 100 ? Math.round(c.slowestVariant.margin) : c.slowestVariant.margin.toFixed(1)}`;
    lines.push(`${head(c.id, c.visibility, c.costMs.toFixed(2), String(c.budgetMs), margin)}${cells}${c.redundant ? "  redundant?" : ""}`);
  }
  lines.push("");
  lines.push(`● fails the case   ◆ the only case that catches this mutant   redundant? every mutant it catches, another case catches too${withMargins ? "\nmargin: budget / the slowest correct variant's CPU time on the case (below ×1 it would fail on time)" : ""}`);
  lines.push("");
  const numberWidth = String(n).length;
  matrix.mutants.forEach((m, i) => {
    const by = m.caughtBy.length === 0 ? "CAUGHT BY NO CASE" : m.fragile ? `fragile: only ${m.caughtBy[0]}` : `${m.caughtBy.length} cases`;
    lines.push(`${String(i + 1).padStart(numberWidth)}  ${m.id} (${m.score}/${m.maxScore}): ${by}`);
  });
  if (matrix.variants !== undefined) {
    lines.push("");
    lines.push("correct variants, graded with these budgets:");
    for (const v of matrix.variants) lines.push(`  ${v.score === v.maxScore ? "✓" : "✗"} ${v.name}: ${v.score}/${v.maxScore}, smallest margin ×${v.minMargin}`);
  }
  return lines.join("\n");
}
