import type { Case, Exercise } from "../packs/types.js";

/** Points are shown with two decimals at most. */
export function roundPoints(points: number): number {
  return Math.round(points * 100) / 100;
}

/** Points per test are shown with 4 decimals (25/3 is 8.3333), like the formats do. */
export function roundTestPoints(points: number): number {
  return Math.round(points * 10000) / 10000;
}

/** A case's weight: its share of the exercise's points relative to the other cases (default 1). */
export function caseWeight(testCase: Pick<Case, "weight">): number {
  return testCase.weight ?? 1;
}

/**
 * An exercise's score from its tests: nothing when the module did not load; all or nothing, or the
 * weighted share of its tests that passed (a case's share is its weight over the exercise's total, all
 * 1 by default), as the exercise says.
 */
export function exerciseScore(exercise: Exercise, loaded: boolean, passedCount: number, testCount: number, passedWeight = passedCount, totalWeight = testCount): number {
  if (!loaded) return 0;
  if (exercise.scoring === "all-or-nothing") return passedCount === testCount ? exercise.points : 0;
  return roundPoints((exercise.points * passedWeight) / totalWeight);
}

export function totalPoints(values: readonly number[]): number {
  return roundPoints(values.reduce((sum, value) => sum + value, 0));
}
