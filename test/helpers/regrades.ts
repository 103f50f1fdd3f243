import type { FastifyInstance } from "fastify";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import request from "supertest";
import { readPackDir } from "../../src/packs/pack-files.js";
import type { Feedback } from "../../src/grading/feedback.js";
import { mutantId, type MutantSpec } from "../../src/packs/mutants.js";
import { root } from "./app.js";
import { fixture, packFile, packMutants } from "./files.js";

/** Regrade tests run on the activations pack (quick to grade), in a private GRADERS_DIR (a real regrade installs). */
export const ASSIGNMENT = "activations";
export const ADMIN_TOKEN = "regrade-admin-token";

export function privateGraders(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gradebox-graders-"));
  cpSync(path.join(root, "graders", ASSIGNMENT), path.join(dir, ASSIGNMENT), { recursive: true });
  return dir;
}

/** Settings for a regrade test app: polls from one address must not be rate limited; honest calls get a wide margin. */
export function regradeEnv(gradersDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { GRADERS_DIR: gradersDir, ADMIN_TOKEN, RATE_LIMIT_PER_MIN: "1000000", CALL_TIMEOUT_MS: "3000", SUBMISSION_WALL_MS: "20000", ...extra };
}

export interface Stored {
  id: string;
  student: string | null;
  label: string;
}

/**
 * A cohort of stored submissions: the reference, every mutant, a solution whose relu fails only
 * hidden cases, a student who submitted twice (a mutant, then the reference) and one without a
 * student. `callback(label)` gives a callbackUrl for some of them.
 */
export async function seedCohort(app: FastifyInstance, callback?: (label: string) => string | undefined): Promise<Stored[]> {
  const entries: Array<{ label: string; student: string | null; source: string }> = [
    { label: "reference", student: "ada", source: packFile("reference/solution.mjs", ASSIGNMENT) },
    ...packMutants(ASSIGNMENT).map((m) => ({ label: `mutant:${m.id}`, student: `student-${m.id}`, source: m.source })),
    { label: "relu-first-row-only", student: "rowan", source: fixture("regrades/relu-first-row-only.mjs") },
    { label: "twice-first", student: "twice", source: packMutants(ASSIGNMENT)[0]?.source ?? "" },
    { label: "twice-second", student: "twice", source: fixture("regrades/relu-first-row-only.mjs") },
    { label: "anonymous", student: null, source: fixture("regrades/relu-first-row-only.mjs") },
  ];
  const stored: Stored[] = [];
  for (const entry of entries) {
    const callbackUrl = callback?.(entry.label);
    const response = await request(app.server).post("/v1/submissions").send({
      assignment: ASSIGNMENT, source: entry.source, ...(entry.student !== null ? { student: entry.student } : {}), ...(callbackUrl !== undefined ? { callbackUrl } : {}),
    });
    if (response.status !== 200) throw new Error(`seeding ${entry.label}: ${response.status} ${JSON.stringify(response.body)}`);
    stored.push({ id: (response.body as Feedback).id, student: entry.student, label: entry.label });
  }
  return stored;
}

/** The stored record of a submission, as GET /v1/submissions/:id gives it (native feedback plus gradings). */
export async function getSubmission(app: FastifyInstance, id: string): Promise<Feedback & { gradings: Array<{ version: string; score: number; maxScore: number; reason: string; regrade?: string }> }> {
  const response = await request(app.server).get(`/v1/submissions/${id}`).set("authorization", `Bearer ${ADMIN_TOKEN}`);
  if (response.status !== 200) throw new Error(`GET ${id}: ${response.status}`);
  return response.body;
}

export interface RegradeAnswer {
  id: string;
  status: string;
  total: number;
  done: number;
  version: string;
  counts: Record<"improved" | "worsened" | "unchanged" | "errored", number>;
  changes: Array<{ submission: string; student: string | null; outcome: string; before: { score: number; maxScore: number }; after: { score: number; maxScore: number }; exercises: Array<{ name: string; before: number | null; after: number | null }>; cases: string[] }>;
  perExercise: Record<string, number>;
  perCase: Record<string, number>;
  error: string | null;
}

export async function startRegrade(app: FastifyInstance, body: Record<string, unknown>): Promise<request.Response> {
  return request(app.server).post(`/v1/assignments/${ASSIGNMENT}/regrades`).set("authorization", `Bearer ${ADMIN_TOKEN}`).send(body);
}

export async function getRegrade(app: FastifyInstance, id: string): Promise<RegradeAnswer> {
  const response = await request(app.server).get(`/v1/regrades/${id}`).set("authorization", `Bearer ${ADMIN_TOKEN}`);
  if (response.status !== 200) throw new Error(`GET regrade ${id}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as RegradeAnswer;
}

/** Polls a regrade until it is no longer running. */
export async function waitForRegrade(app: FastifyInstance, id: string, timeoutMs = 120_000): Promise<RegradeAnswer> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const answer = await getRegrade(app, id);
    if (answer.status !== "running") return answer;
    if (Date.now() > until) throw new Error(`regrade ${id} still running after ${timeoutMs} ms (${answer.done}/${answer.total})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The ids of an exercise's hidden cases, read from the pack's case files. */
export async function hiddenCases(gradersDir: string, exercise: string): Promise<string[]> {
  const files = await readPackDir(path.join(gradersDir, ASSIGNMENT));
  return [...files].filter(([name]) => name.startsWith("cases/"))
    .map(([, text]) => JSON.parse(text) as { id: string; exercise: string; visibility: string })
    .filter((c) => c.exercise === exercise && c.visibility === "hidden").map((c) => c.id);
}

/**
 * The pack without `exercise`'s hidden cases, as a PUT body's files. A mutant that only those cases
 * caught (read from its stored feedback: it failed no other test) is dropped too, or the draft's
 * self-test would refuse it.
 */
export async function draftWithoutHidden(gradersDir: string, exercise: string, mutantFeedback: ReadonlyMap<string, Feedback>): Promise<Record<string, string>> {
  const files = await readPackDir(path.join(gradersDir, ASSIGNMENT));
  const removed = new Set(await hiddenCases(gradersDir, exercise));
  const draft: Record<string, string> = {};
  for (const [name, text] of files) {
    if (name.startsWith("cases/") && removed.has((JSON.parse(text) as { id: string }).id)) continue;
    draft[name] = text;
  }
  const assignment = JSON.parse(draft["assignment.json"] ?? "{}") as { mutants: MutantSpec[] };
  assignment.mutants = assignment.mutants.filter((spec) => {
    const feedback = mutantFeedback.get(mutantId(spec));
    return feedback === undefined || failedOutside(feedback, exercise).length > 0;
  });
  draft["assignment.json"] = JSON.stringify(assignment, null, 2);
  return draft;
}

/** The failed tests of a feedback, except `exercise`'s hidden ones. */
export function failedOutside(feedback: Feedback, exercise: string): string[] {
  return feedback.exercises.flatMap((e) => e.tests.filter((t) => t.status !== "passed" && !(e.name === exercise && t.visibility === "hidden")).map((t) => t.id));
}

/** Did the feedback fail `exercise`'s hidden tests and nothing else? */
export function failedOnlyHidden(feedback: Feedback, exercise: string): boolean {
  const failed = feedback.exercises.flatMap((e) => e.tests.filter((t) => t.status !== "passed").map((t) => ({ exercise: e.name, visibility: t.visibility })));
  return failed.length > 0 && failed.every((t) => t.exercise === exercise && t.visibility === "hidden");
}

export { root };
