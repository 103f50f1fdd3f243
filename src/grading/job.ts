import type { Limits } from "../config.js";
import { jobBudget } from "../packs/budgets.js";
import type { Case, CaseBudgets, Pack } from "../packs/types.js";
import type { JobSpec } from "../sandbox/pool.js";
import type { HelperModule } from "../sandbox/protocol.js";

/** What a sandbox job needs of a pack: the assignment (imports, scoring, sandbox options), the files, and the budgets learnt from its reference. */
export type PackSource = Pick<Pack, "assignment" | "files"> & { budgets?: CaseBudgets };

export function helperModules(pack: PackSource): HelperModule[] {
  return Object.entries(pack.assignment.imports).map(([specifier, file]) => ({ specifier, source: pack.files.get(file) ?? "" }));
}

/** The cases a grading runs: those of the chosen exercises (all when none are chosen), public cases before hidden ones. */
export function casesToRun(pack: Pick<Pack, "cases">, exercises?: readonly string[]): Case[] {
  const chosen = pack.cases.filter((c) => exercises === undefined || exercises.includes(c.exercise));
  return [...chosen.filter((c) => c.visibility === "public"), ...chosen.filter((c) => c.visibility === "hidden")];
}

/** The sandbox job for a source: one call per case, in the order given. */
export function jobFor(pack: PackSource, cases: readonly Case[], source: string, limits: Limits): JobSpec {
  const allOrNothing = new Set(pack.assignment.exercises.filter((e) => e.scoring === "all-or-nothing").map((e) => e.name));
  const budgets = pack.budgets?.enforced === true ? pack.budgets : undefined;
  return {
    source,
    helpers: helperModules(pack),
    ...(budgets !== undefined ? { budget: jobBudget(budgets, cases, limits) } : {}),
    keepGlobals: pack.assignment.sandbox?.keepGlobals ?? [],
    calls: cases.map((c) => ({
      exportName: c.exercise,
      argsJson: JSON.stringify(c.args),
      keepOutput: c.visibility === "public",
      ...(budgets?.cases.has(c.id) === true ? { budgetMs: budgets.cases.get(c.id) as number } : {}),
      ...(allOrNothing.has(c.exercise) ? { stopGroup: c.exercise } : {}),
      ...(c.output !== undefined || c.argsAfter !== undefined
        ? { checks: { ...(c.output !== undefined ? { output: c.output } : {}), ...(c.argsAfter !== undefined ? { argsAfter: c.argsAfter } : {}) } }
        : {}),
    })),
    limits,
  };
}
