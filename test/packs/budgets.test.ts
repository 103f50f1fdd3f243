import t from "tap";
import type { Limits } from "../../src/config.js";
import { clampBudget, jobBudget, learnBudgets, median } from "../../src/packs/budgets.js";
import type { Case } from "../../src/packs/types.js";
import type { JobReport } from "../../src/sandbox/pool.js";

const limits: Limits = { callTimeoutMs: 1000, evalTimeoutMs: 800, submissionWallMs: 5000, isolateMemoryMb: 64, outputKiB: 64, resultKiB: 64 };
const settings = { enforce: true, factor: 20, minMs: 50, runs: 3 };
const cases = ["fast", "medium", "slow"].map((id) => ({ id, exercise: "f", visibility: "public", args: [], expect: {}, file: `cases/${id}.json` }) as unknown as Case);

function run(cpuMs: number[], loadCpuMs: number): JobReport {
  return {
    load: { kind: "loaded" },
    loadOutput: "",
    calls: cpuMs.map((ms) => ({ outcome: { kind: "value", value: 0 }, output: "", durationMs: ms * 3, cpuMs: ms })),
    droppedOutput: 0,
    workerId: 1,
    durationMs: 0,
    phases: { isolateMs: 0, contextMs: 0, preparedAhead: false, setupWaitMs: 0, loadMs: loadCpuMs * 3, loadCpuMs, testsMs: 0 },
  };
}

t.test("the median of a few runs: the middle one, or the mean of the middle two", async (t) => {
  t.equal(median([5, 1, 3]), 3);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.equal(median([]), 0);
});

t.test("a budget is BUDGET_FACTOR times the reference's time, never below BUDGET_MIN_MS nor above the limit", async (t) => {
  t.equal(clampBudget(0.2, 1000, settings), 50, "a fast case gets the minimum");
  t.equal(clampBudget(12.01, 1000, settings), 241, "20 × 12.01 ms, rounded up");
  t.equal(clampBudget(80, 1000, settings), 1000, "a slow case gets the call limit");
});

t.test("each case's budget comes from its median CPU time over the reference's runs; the load's likewise", async (t) => {
  const budgets = learnBudgets([run([0.1, 10, 60], 1), run([0.3, 12, 70], 3), run([0.2, 11, 90], 2)], cases, limits, settings);
  t.same([...budgets.referenceMs], [["fast", 0.2], ["medium", 11], ["slow", 70]], "the medians, by case, of the CPU times (not the wall-clock ones)");
  t.same([...budgets.cases], [["fast", 50], ["medium", 220], ["slow", 1000]]);
  t.equal(budgets.referenceLoadMs, 2);
  t.equal(budgets.loadMs, 50);
  t.equal(budgets.runs, 3);
  t.equal(budgets.enforced, true);
  t.same(jobBudget(budgets, cases, limits), { loadMs: 50, totalMs: 50 + 220 + 1000 + 50 }, "a job's total: its cases' budgets and the load's");
  t.same(jobBudget(budgets, cases.slice(0, 2), limits), { loadMs: 50, totalMs: 50 + 220 + 50 }, "only the cases it runs");
  t.equal(jobBudget(budgets, cases, { ...limits, submissionWallMs: 900 }).totalMs, 900, "at most SUBMISSION_WALL_MS");
});

t.test("with BUDGETS=off the times are still learnt, and the budgets are the limits", async (t) => {
  const budgets = learnBudgets([run([0.1, 10, 60], 1)], cases, limits, { ...settings, enforce: false });
  t.equal(budgets.enforced, false);
  t.same([...budgets.cases.values()], [1000, 1000, 1000]);
  t.equal(budgets.loadMs, 800);
  t.same([...budgets.referenceMs.values()], [0.1, 10, 60]);
});
