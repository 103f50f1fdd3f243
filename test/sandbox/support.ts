import type { FastifyInstance } from "fastify";
import type { Test } from "tap";
import request from "supertest";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fastLimits, root } from "../helpers/app.js";
import { fixture, packFile, readRepoFile } from "../helpers/files.js";
import type { Feedback, TestFeedback } from "../../src/grading/feedback.js";
import { DEFAULT_HIDDEN_HINT, HIDDEN_FAILED } from "../../src/grading/verdicts.js";

/**
 * Shared by the hazard tests (test/sandbox/*.test.ts): submitting, finding tests in feedback, and the one
 * check every hazard ends with, that an honest submission on the same app still scores 100.
 */

export const reference = packFile("reference/solution.mjs");

/** A hostile submission under test/fixtures/hostile/. */
export function hostile(file: string): string {
  return fixture(`hostile/${file}`);
}

/**
 * The longest a submission may take from request to answer: the service's own deadline for a grading
 * (SUBMISSION_WALL_MS + 2 × KILL_GRACE_MS, after which the worker is killed) plus a second of slack for
 * HTTP and a busy test machine.
 */
export function answerDeadlineMs(env: Record<string, string> = fastLimits): number {
  return Number(env.SUBMISSION_WALL_MS) + 2 * Number(env.KILL_GRACE_MS) + 1000;
}

export interface Answer {
  status: number;
  feedback: Feedback;
  text: string;
  headers: Record<string, string>;
  ms: number;
}

export async function post(app: FastifyInstance, source: string, extra: Record<string, unknown> = {}): Promise<Answer> {
  const started = Date.now();
  const response = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source, ...extra });
  return { status: response.status, feedback: response.body as Feedback, text: response.text, headers: response.headers as Record<string, string>, ms: Date.now() - started };
}

/** Posts a submission and checks it was answered with feedback (200) within the service's deadline. */
export async function submit(t: Test, app: FastifyInstance, source: string, extra: Record<string, unknown> = {}, env: Record<string, string> = fastLimits): Promise<Answer> {
  const answer = await post(app, source, extra);
  t.equal(answer.status, 200, "answered with 200 and feedback");
  t.ok(answer.ms < answerDeadlineMs(env), `answered in ${answer.ms} ms, within the ${answerDeadlineMs(env)} ms deadline`);
  return answer;
}

/** The fields a hidden test may carry: nothing that depends on its case. */
export const HIDDEN_TEST_KEYS = { passed: ["id", "message", "status", "visibility"], failed: ["hint", "id", "message", "status", "visibility"] };

/** Every hidden test of the exercise failed, and says only that (with the exercise's generic hint). */
export function hiddenAllFailed(t: Test, feedback: Feedback, exercise: string): void {
  const hidden = hiddenTests(feedback, exercise);
  t.ok(hidden.length > 0, `${exercise} has hidden tests`);
  for (const x of hidden) {
    t.equal(x.status, "failed", `${x.id} failed`);
    t.equal(x.message, HIDDEN_FAILED, `${x.id} says only that it failed`);
    t.equal(x.hint, DEFAULT_HIDDEN_HINT, `${x.id} carries the exercise's generic hint`);
  }
}

export function byId(feedback: Feedback, id: string): TestFeedback | undefined {
  return feedback.exercises.flatMap((e) => e.tests).find((x) => x.id === id);
}

export function hiddenTests(feedback: Feedback, exercise: string): TestFeedback[] {
  return feedback.exercises.find((e) => e.name === exercise)?.tests.filter((x) => x.visibility === "hidden") ?? [];
}

export function score(feedback: Feedback, exercise: string): number | undefined {
  return feedback.exercises.find((e) => e.name === exercise)?.score;
}

/** The check every hazard ends with: the service is still up and grades an honest submission normally. */
export async function honestStillScores100(t: Test, app: FastifyInstance, env: Record<string, string> = fastLimits): Promise<void> {
  const { feedback } = await submit(t, app, reference, {}, env);
  t.equal(feedback.status, "graded", "the honest submission after it is graded");
  t.equal(feedback.score, 100, "the honest submission after it scores 100");
}

export interface Workers {
  workers: number;
  ready: number;
  busy: number;
  queued: number;
  healthy: boolean;
}

export async function workers(app: FastifyInstance): Promise<Workers> {
  return (await request(app.server).get("/health")).body.workers as Workers;
}

/** Waits until `count` workers are ready and none is busy (after a kill, a replacement takes a moment). */
export async function waitForIdleWorkers(app: FastifyInstance, count: number, timeoutMs = 20_000): Promise<Workers> {
  const started = Date.now();
  for (;;) {
    const now = await workers(app);
    if ((now.ready >= count && now.busy === 0) || Date.now() - started > timeoutMs) return now;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until at least `count` workers are busy (submissions have reached the sandbox). */
export async function waitForBusyWorker(app: FastifyInstance, count = 1, timeoutMs = 10_000): Promise<Workers> {
  const started = Date.now();
  for (;;) {
    const now = await workers(app);
    if (now.busy >= count || Date.now() - started > timeoutMs) return now;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The hidden cases of the pack: their arguments and expected values must never reach a response. */
export function hiddenCases(): Array<{ id: string; args: unknown[]; expect: { value?: unknown; anyOf?: unknown[] } }> {
  const dir = path.join(root, "graders", "gradient-checking", "cases");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readRepoFile("graders", "gradient-checking", "cases", f)) as { id: string; visibility: string; args: unknown[]; expect: { value?: unknown; anyOf?: unknown[] } })
    .filter((c) => c.visibility === "hidden");
}

/** The distinctive numbers of a value (the ones with many digits), as they would be printed. */
export function distinctiveNumbers(value: unknown): string[] {
  return [...new Set((JSON.stringify(value) ?? "").match(/-?\d+\.\d{6,}(e-?\d+)?/g) ?? [])];
}
