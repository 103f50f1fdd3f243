import type { SubmissionStore, SubmissionSummary } from "../store/store.js";

/**
 * The cohort figures an instructor reads for one assignment (GET /v1/assignments/:id/activity): how
 * many submissions came in and when, the score distribution of each student's latest graded
 * submission, and the tests those submissions fail most often. Computed from the store's own list
 * and get, so every engine answers it without a query of its own.
 */

/** Days of "submissions per day", today included. */
export const ACTIVITY_DAYS = 30;
/** Histogram buckets of the score as a percentage of the maximum: [0,10), [10,20) … [90,100]. */
export const SCORE_BUCKETS = 10;
/** How many summaries one answer reads at most (newest first); past it the answer says `truncated`. */
export const ACTIVITY_SCAN_MAX = 50_000;
const PAGE = 200;
const DAY_MS = 86_400_000;

export interface Activity {
  assignment: string;
  generatedAt: string;
  /** True when the assignment has more than ACTIVITY_SCAN_MAX submissions: the figures cover the newest. */
  truncated: boolean;
  submissions: { total: number; last24h: number; last7d: number };
  /** Submissions received per UTC day, oldest first, the last ACTIVITY_DAYS days (zeros included). */
  perDay: Array<{ day: string; count: number }>;
  /** The latest graded or rejected submission per student (one without a student counts alone). */
  scores: { submissions: number; buckets: Array<{ from: number; to: number; count: number }> };
  /** Tests that did not pass in those latest submissions, most often first. */
  mostFailed: Array<{ exercise: string; test: string; visibility: string; failed: number }>;
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The bucket a score falls in: a full score is in the last one, not in a bucket of its own. */
export function bucketOf(score: number, maxScore: number): number {
  if (maxScore <= 0) return 0;
  const share = Math.min(1, Math.max(0, score / maxScore));
  return Math.min(SCORE_BUCKETS - 1, Math.floor(share * SCORE_BUCKETS));
}

export async function assignmentActivity(store: SubmissionStore, assignment: string, now: number): Promise<Activity> {
  const summaries: SubmissionSummary[] = [];
  let cursor: string | undefined;
  let truncated = false;
  for (;;) {
    const page = await store.list({ assignment, limit: PAGE, ...(cursor !== undefined ? { cursor } : {}) });
    summaries.push(...page.items);
    if (page.nextCursor === null) break;
    if (summaries.length >= ACTIVITY_SCAN_MAX) {
      truncated = true;
      break;
    }
    cursor = page.nextCursor;
  }

  const startOfToday = Date.parse(`${utcDay(now)}T00:00:00.000Z`);
  const firstDay = startOfToday - (ACTIVITY_DAYS - 1) * DAY_MS;
  const perDay = new Map<string, number>();
  for (let day = firstDay; day <= startOfToday; day += DAY_MS) perDay.set(utcDay(day), 0);
  let last24h = 0;
  let last7d = 0;
  for (const s of summaries) {
    if (s.receivedAt > now - DAY_MS) last24h++;
    if (s.receivedAt > now - 7 * DAY_MS) last7d++;
    const day = utcDay(s.receivedAt);
    const count = perDay.get(day);
    if (count !== undefined) perDay.set(day, count + 1);
  }

  // Newest first: the first finished submission met for a student is their latest.
  const seen = new Set<string>();
  const latest: SubmissionSummary[] = [];
  for (const s of summaries) {
    if ((s.status !== "graded" && s.status !== "rejected") || s.score === null || s.maxScore === null) continue;
    if (s.student !== null) {
      if (seen.has(s.student)) continue;
      seen.add(s.student);
    }
    latest.push(s);
  }
  const buckets = Array.from({ length: SCORE_BUCKETS }, (_, i) => ({ from: (i * 100) / SCORE_BUCKETS, to: ((i + 1) * 100) / SCORE_BUCKETS, count: 0 }));
  for (const s of latest) buckets[bucketOf(s.score ?? 0, s.maxScore ?? 0)]!.count++;

  const failed = new Map<string, { exercise: string; test: string; visibility: string; failed: number }>();
  for (const s of latest) {
    const record = await store.get(s.id);
    for (const exercise of record?.feedback?.exercises ?? []) {
      for (const test of exercise.tests) {
        if (test.status === "passed") continue;
        const key = `${exercise.name}\u0000${test.id}`;
        const entry = failed.get(key) ?? { exercise: exercise.name, test: test.id, visibility: test.visibility, failed: 0 };
        entry.failed++;
        failed.set(key, entry);
      }
    }
  }
  const mostFailed = [...failed.values()].sort((a, b) => b.failed - a.failed || (a.test < b.test ? -1 : 1));

  return {
    assignment,
    generatedAt: new Date(now).toISOString(),
    truncated,
    submissions: { total: summaries.length, last24h, last7d },
    perDay: [...perDay].map(([day, count]) => ({ day, count })),
    scores: { submissions: latest.length, buckets },
    mostFailed,
  };
}
