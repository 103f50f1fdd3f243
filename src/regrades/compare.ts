import type { Feedback } from "../grading/feedback.js";
import type { Pack } from "../packs/types.js";
import type { RegradeItemResult, RegradeOutcome } from "../store/store.js";

/** What moved for one submission between its stored grading and a regrade's (GET /v1/regrades/:id's `changes`). */
export interface RegradeChange {
  submission: string;
  student: string | null;
  before: { score: number; maxScore: number };
  after: { score: number; maxScore: number };
  /** Exercises whose score moved (null: the exercise is not in that grading). */
  exercises: Array<{ name: string; before: number | null; after: number | null }>;
  /** Tests whose status moved, by case id; a test in only one of the gradings counts as passed in the other. */
  cases: string[];
}

function fraction(score: number, maxScore: number): number {
  return maxScore > 0 ? score / maxScore : 0;
}

/**
 * A feedback's test statuses by case id. Students see a hidden test as `<exercise>-hidden-<rank>`,
 * and the rank shifts when a hidden case is added or removed; an instructor's regrade compares case
 * ids. A feedback's tests are its exercise's cases in the pack's order, so the pack it was graded
 * with names them; without that pack (an older version), the tests keep the ids students saw.
 */
export function testStatuses(feedback: Feedback, pack: Pick<Pack, "cases" | "hash"> | undefined): Map<string, string> {
  const statuses = new Map<string, string>();
  for (const exercise of feedback.exercises) {
    const cases = pack !== undefined && pack.hash === feedback.assignmentVersion ? pack.cases.filter((c) => c.exercise === exercise.name) : [];
    const named = cases.length === exercise.tests.length;
    exercise.tests.forEach((test, i) => statuses.set(named ? (cases[i]?.id ?? test.id) : test.id, test.status));
  }
  return statuses;
}

/**
 * Compares a submission's stored grading with a regrade's. A score that moved is improved or
 * worsened (by the fraction of the points, then by the points when the fraction is the same); a
 * submission whose score stayed is unchanged, and is a change only when some test's status moved.
 */
export function compareGradings(
  submission: { id: string; student: string | null },
  before: Feedback,
  after: Feedback,
  packs: ReadonlyArray<Pick<Pack, "cases" | "hash">> = [],
): RegradeItemResult & { change: RegradeChange | null } {
  const beforeExercises = new Map(before.exercises.map((e) => [e.name, e.score]));
  const afterExercises = new Map(after.exercises.map((e) => [e.name, e.score]));
  const names = [...new Set([...beforeExercises.keys(), ...afterExercises.keys()])];
  const exercises = names
    .map((name) => ({ name, before: beforeExercises.get(name) ?? null, after: afterExercises.get(name) ?? null }))
    .filter((e) => e.before !== e.after);
  // Both by case id, or (when the pack of one is gone) both by the ids students saw.
  const beforePack = packs.find((p) => p.hash === before.assignmentVersion);
  const afterPack = packs.find((p) => p.hash === after.assignmentVersion);
  const named = beforePack !== undefined && afterPack !== undefined;
  const was = testStatuses(before, named ? beforePack : undefined);
  const now = testStatuses(after, named ? afterPack : undefined);
  // A test in one grading only counts as passed in the other: a removed case that passed, or a new
  // one that passes, flips nothing for this submission; a removed case it failed, or a new one it fails, does.
  const cases = [...new Set([...was.keys(), ...now.keys()])].filter((id) => (was.get(id) ?? "passed") !== (now.get(id) ?? "passed"));
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
