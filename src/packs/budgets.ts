import { settings, type Limits } from "../config.js";
import type { JobBudget } from "../sandbox/protocol.js";
import type { JobReport } from "../sandbox/pool.js";
import type { Case, CaseBudgets } from "./types.js";

/**
 * Budgets learnt from the reference. A call that loops used to hold its worker for the whole call
 * limit (CALL_TIMEOUT_MS, a second) although the reference answers the same case in a few ms. The
 * self-test runs the reference BUDGET_RUNS times; each case's budget is BUDGET_FACTOR times its median
 * CPU time, clamped to BUDGET_MIN_MS … the call limit (the load's likewise, up to the load limit).
 * Budgets count CPU time (the worker process's), not the clock, so an honest solution is not failed by a busy
 * machine; the wall-clock limits stay as the outer guard.
 */

export interface BudgetSettings {
  /** False (BUDGETS=off): the budgets are the wall-clock limits, and jobs carry none. */
  enforce: boolean;
  factor: number;
  minMs: number;
  runs: number;
}

export const defaultBudgetSettings: BudgetSettings = {
  enforce: settings.BUDGETS.default === "learnt",
  factor: settings.BUDGET_FACTOR.default,
  minMs: settings.BUDGET_MIN_MS.default,
  runs: settings.BUDGET_RUNS.default,
};

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function clampBudget(referenceMs: number, maxMs: number, s: BudgetSettings): number {
  return Math.min(maxMs, Math.max(s.minMs, Math.ceil(s.factor * referenceMs)));
}

/** A call's CPU ms in a report (its wall-clock ms from a worker that did not measure CPU). */
export function callMs(call: JobReport["calls"][number] | undefined): number | undefined {
  return call?.cpuMs ?? call?.durationMs;
}

/** The budgets from the reference's runs (each a report of every case, in `cases` order). */
export function learnBudgets(runs: readonly JobReport[], cases: readonly Case[], limits: Limits, s: BudgetSettings): CaseBudgets {
  const referenceMs = new Map<string, number>();
  const budgets = new Map<string, number>();
  cases.forEach((testCase, index) => {
    const times = runs.map((r) => callMs(r.calls[index])).filter((ms): ms is number => ms !== undefined);
    const ms = median(times);
    referenceMs.set(testCase.id, ms);
    budgets.set(testCase.id, s.enforce ? clampBudget(ms, limits.callTimeoutMs, s) : limits.callTimeoutMs);
  });
  const referenceLoadMs = median(runs.map((r) => r.phases?.loadCpuMs ?? r.phases?.loadMs).filter((ms): ms is number => ms !== undefined));
  return {
    enforced: s.enforce,
    factor: s.factor,
    minMs: s.minMs,
    runs: runs.length,
    referenceLoadMs,
    loadMs: s.enforce ? clampBudget(referenceLoadMs, limits.evalTimeoutMs, s) : limits.evalTimeoutMs,
    referenceMs,
    cases: budgets,
  };
}

/** A job's budgets: its load's, and its total (its cases' budgets and the load's, at most SUBMISSION_WALL_MS). */
export function jobBudget(budgets: CaseBudgets, cases: readonly Case[], limits: Limits): JobBudget {
  const calls = cases.reduce((sum, c) => sum + (budgets.cases.get(c.id) ?? limits.callTimeoutMs), 0);
  return { loadMs: budgets.loadMs, totalMs: Math.min(limits.submissionWallMs, calls + budgets.loadMs) };
}
