import type { Feedback } from "../grading/feedback.js";
import type { RegradeItemResult, RegradeOutcome } from "../store/store.js";

/** What moved for one submission between its stored grading and a regrade's (GET /v1/regrades/:id's `changes`). */
export interface RegradeChange {
  submission: string;
  student: string | null;
  before: { score: number; maxScore: number };
  after: { score: number; maxScore: number };
  /** Exercises whose score moved (null: the exercise is not in that grading). */
  exercises: Array<{ name: string; before: number | null; after: number | null }>;
  /** Tests whose status moved, by case id, including tests that exist in only one of the gradings. */
  cases: string[];
}

function fraction(score: number, maxScore: number): number {
  return maxScore > 0 ? score / maxScore : 0;
}

function testStatuses(feedback: Feedback): Map<string, string> {
  return new Map(feedback.exercises.flatMap((e) => e.tests.map((t) => [t.id, t.status] as const)));
}

/**
 * Compares a submission's stored grading with a regrade's. A score that moved is improved or
 * worsened (by the fraction of the points, then by the points when the fraction is the same); a
 * submission whose score stayed is unchanged, and is a change only when some test's status moved.
 */
export function compareGradings(submission: { id: string; student: string | null }, before: Feedback, after: Feedback): RegradeItemResult & { change: RegradeChange | null } {
  const beforeExercises = new Map(before.exercises.map((e) => [e.name, e.score]));
  const afterExercises = new Map(after.exercises.map((e) => [e.name, e.score]));
  const names = [...new Set([...beforeExercises.keys(), ...afterExercises.keys()])];
  const exercises = names
    .map((name) => ({ name, before: beforeExercises.get(name) ?? null, after: afterExercises.get(name) ?? null }))
    .filter((e) => e.before !== e.after);
  const was = testStatuses(before);
  const now = testStatuses(after);
  const cases = [...new Set([...was.keys(), ...now.keys()])].filter((id) => was.get(id) !== now.get(id));
  const moved = scoreMoved(before, after);
  let outcome: RegradeOutcome = "unchanged";
  if (moved) {
    const delta = fraction(after.score, after.maxScore) - fraction(before.score, before.maxScore);
    const sign = delta !== 0 ? Math.sign(delta) : Math.sign(after.score - before.score);
    outcome = sign > 0 ? "improved" : sign < 0 ? "worsened" : "unchanged";
  }
  if (!moved && cases.length === 0 && exercises.length === 0) return { outcome, change: null };
  return {
    outcome,
    change: {
      submission: submission.id,
      student: submission.student,
      before: { score: before.score, maxScore: before.maxScore },
      after: { score: after.score, maxScore: after.maxScore },
      exercises,
      cases,
    },
  };
}

/** Did the score move (what a `submission.regraded` webhook is sent for)? */
export function scoreMoved(before: Pick<Feedback, "score" | "maxScore">, after: Pick<Feedback, "score" | "maxScore">): boolean {
  return before.score !== after.score || before.maxScore !== after.maxScore;
}
