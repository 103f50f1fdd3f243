import type { Exercise } from "../packs/types.js";

/** Points are shown with two decimals at most. */
export function roundPoints(points: number): number {
  return Math.round(points * 100) / 100;
}

/**
 * An exercise's score from its tests: nothing when the module did not load; all or nothing, or the
 * share of its tests that passed, as the exercise says.
 */
export function exerciseScore(exercise: Exercise, loaded: boolean, passedCount: number, testCount: number): number {
  if (!loaded) return 0;
  if (exercise.scoring === "all-or-nothing") return passedCount === testCount ? exercise.points : 0;
  return roundPoints((exercise.points * passedCount) / testCount);
}

export function totalPoints(values: readonly number[]): number {
  return roundPoints(values.reduce((sum, value) => sum + value, 0));
}
