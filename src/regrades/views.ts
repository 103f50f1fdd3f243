import { REGRADE_OUTCOMES, type RegradeItem, type RegradeRecord } from "../store/store.js";
import type { RegradeChange } from "./compare.js";

/** What clients see of a regrade (GET /v1/regrades/:id), its JSON Schema, and its CSV. */

const score = { type: "object", required: ["score", "maxScore"], properties: { score: { type: "number" }, maxScore: { type: "number" } } } as const;

/** The one schema of the regrade's JSON answer (OpenAPI, and fastify's serialiser). */
export const regradeSchema = {
  type: "object",
  required: ["id", "assignment", "version", "dryRun", "scope", "status", "total", "done", "counts", "createdAt", "finishedAt", "error", "changes", "perExercise", "perCase"],
  properties: {
    id: { type: "string" },
    assignment: { type: "string" },
    version: { type: "string", description: "The pack version (hash) the submissions are graded against: the draft's for a dry run with a pack." },
    dryRun: { type: "boolean" },
    scope: { enum: ["latest", "all"] },
    status: { enum: ["running", "done", "failed", "cancelled"] },
    total: { type: "integer", description: "Submissions it grades, chosen when it started." },
    done: { type: "integer" },
    counts: { type: "object", required: [...REGRADE_OUTCOMES], properties: Object.fromEntries(REGRADE_OUTCOMES.map((o) => [o, { type: "integer" }])) },
    createdAt: { type: "string", format: "date-time" },
    finishedAt: { type: ["string", "null"], format: "date-time" },
    error: { type: ["string", "null"], description: "Why it failed or was cancelled." },
    changes: {
      type: "array",
      description: "Each submission whose score or a test's status moved, in submission order.",
      items: {
        type: "object",
        required: ["submission", "student", "outcome", "before", "after", "exercises", "cases"],
        properties: {
          submission: { type: "string" },
          student: { type: ["string", "null"] },
          outcome: { enum: [...REGRADE_OUTCOMES] },
          before: score,
          after: score,
          exercises: {
            type: "array",
            items: { type: "object", required: ["name", "before", "after"], properties: { name: { type: "string" }, before: { type: ["number", "null"] }, after: { type: ["number", "null"] } } },
          },
          cases: { type: "array", items: { type: "string" }, description: "Ids of the cases whose status moved (a case in only one of the gradings counts as passed in the other)." },
        },
      },
    },
    perExercise: { type: "object", additionalProperties: { type: "integer" }, description: "Exercise name -> submissions whose score for it moved." },
    perCase: { type: "object", additionalProperties: { type: "integer" }, description: "Case id -> submissions for which its status moved." },
  },
} as const;

export type RegradeChangeView = RegradeChange & { outcome: RegradeItem["outcome"] };

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function changesOf(items: readonly RegradeItem[]): RegradeChangeView[] {
  return items.filter((i) => i.change !== null).map((i) => ({ ...(i.change as RegradeChange), outcome: i.outcome }));
}

function tally(keys: Iterable<string>, into: Record<string, number>): void {
  for (const key of keys) into[key] = (into[key] ?? 0) + 1;
}

export function regradeView(record: RegradeRecord, items: readonly RegradeItem[]): Record<string, unknown> {
  const changes = changesOf(items);
  const perExercise: Record<string, number> = {};
  const perCase: Record<string, number> = {};
  for (const change of changes) {
    tally(change.exercises.map((e) => e.name), perExercise);
    tally(change.cases, perCase);
  }
  return {
    id: record.id,
    assignment: record.assignment,
    version: record.version,
    dryRun: record.dryRun,
    scope: record.scope,
    status: record.status,
    total: record.total,
    done: record.done,
    counts: record.counts,
    createdAt: iso(record.createdAt),
    finishedAt: iso(record.finishedAt),
    error: record.error,
    changes,
    perExercise,
    perCase,
  };
}

/**
 * One CSV field (RFC 4180). A text a spreadsheet would run as a formula (=, +, -, @ first: a
 * student id is the client's text) is prefixed with an apostrophe.
 */
function field(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const CSV_COLUMNS = ["submission", "student", "outcome", "before_score", "before_max", "after_score", "after_max", "exercises", "cases"] as const;

/** `?format=csv`: one row per changed submission, for a spreadsheet. */
export function regradeCsv(items: readonly RegradeItem[]): string {
  const rows = changesOf(items).map((c) => [
    c.submission, c.student, c.outcome, c.before.score, c.before.maxScore, c.after.score, c.after.maxScore,
    c.exercises.map((e) => `${e.name}: ${e.before ?? "-"} -> ${e.after ?? "-"}`).join("; "),
    c.cases.join(" "),
  ].map(field).join(","));
  return [CSV_COLUMNS.join(","), ...rows].join("\r\n") + "\r\n";
}
