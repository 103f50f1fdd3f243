import { randomUUID } from "node:crypto";
import type { Config } from "../config.js";
import { ApiError, apiError } from "../errors.js";
import type { Feedback } from "../grading/feedback.js";
import { grade } from "../grading/grade.js";
import type { StripPool } from "../grading/strip-pool.js";
import { BUSY_RETRY_AFTER_S } from "./intake.js";
import type { GradablePack } from "../packs/types.js";
import { lowerLimits } from "../limits.js";
import type { Log } from "../logger.js";
import { PoolError, type SandboxPool } from "../sandbox/pool.js";
import type { Outcome, SubmissionRecord, SubmissionStore } from "../store/store.js";

/**
 * The one queue in front of the grading workers, for both modes, and the one place that admits or
 * refuses work:
 * - a synchronous submission waits in memory (its client holds the connection) and is refused with
 *   503 past QUEUE_LENGTH waiting;
 * - an asynchronous one waits in the store (it survives a crash) and is refused past ASYNC_QUEUE_MAX.
 * It runs at most one grading per worker, and a free worker takes sync work first: an async backlog
 * of any size delays a sync request by at most the gradings already running.
 * Every grading is recorded: queued -> running -> graded | rejected | failed.
 */

export interface GradingQueueOptions {
  store: SubmissionStore;
  pool: SandboxPool;
  /** The service's TypeScript stripping threads (off the event loop). */
  typescript?: StripPool;
  packs: { get(id: string): GradablePack | undefined };
  config: Pick<Config, "workers" | "queueLength" | "asyncQueueMax" | "maxAttempts" | "resultMaxDepth" | "killGraceMs" | "limits">;
  logger: Log;
  /** Called when a submission ends with a pending webhook. */
  onWebhookPending?: () => void;
  /** Called with each grading's feedback, and with the assignment of each the service could not grade (metrics). */
  onGraded?: (feedback: Feedback) => void;
  onUngraded?: (assignment: string) => void;
}

/** How long a claimed submission is held before another claim may take it (only matters for a shared engine). */
function leaseMs(config: GradingQueueOptions["config"]): number {
  return 2 * (config.limits.submissionWallMs + 2 * config.killGraceMs) + 60_000;
}

function statusCounts(feedback: Feedback): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const test of feedback.exercises.flatMap((e) => e.tests)) counts[test.status] = (counts[test.status] ?? 0) + 1;
  return counts;
}

/** A pause before the background lane tries again after the sandbox was unavailable. */
const UNAVAILABLE_PAUSE_MS = 1000;

interface SyncWaiter {
  id: string;
  resolve: (record: SubmissionRecord) => void;
  reject: (error: unknown) => void;
}

export class GradingQueue {
  private readonly syncWaiting: SyncWaiter[] = [];
  private active = 0;
  /** Background submissions queued in the store (not running): what ASYNC_QUEUE_MAX bounds. */
  private background = 0;
  private claiming = false;
  /** Set by the drain: background work not yet started stays queued in the store for the next start. */
  private backgroundStopped = false;
  private paused: NodeJS.Timeout | undefined;
  private closed = false;
  private averageGradingMs = 50;
  private readonly finishedListeners = new Map<string, Array<(record: SubmissionRecord) => void>>();
  /** Low-priority work (regrades), run only on workers no live submission wants. */
  private readonly idleWaiting: Array<{ run: () => Promise<void>; reject: (error: unknown) => void }> = [];
  private idleActive = 0;

  constructor(private readonly options: GradingQueueOptions) {}

  /** At start: everything a crash left queued or running goes back to the background lane. */
  async start(): Promise<{ resumed: number }> {
    const resumed = await this.options.store.recover();
    this.background = await this.options.store.countQueued();
    if (resumed > 0) this.options.logger.info({ resumed }, "resuming submissions left queued or running");
    this.pump();
    return { resumed };
  }

  stats(): { active: number; syncWaiting: number; background: number } {
    return { active: this.active, syncWaiting: this.syncWaiting.length, background: this.background };
  }

  /** Throws 503 queue_full if a sync submission could not get a worker or a place in the queue now. */
  admitSync(): void {
    if (this.closed) throw apiError("shutting_down");
    const slots = this.options.config.workers;
    if (this.active < slots || this.syncWaiting.length < this.options.config.queueLength) return;
    const waitMs = ((this.syncWaiting.length + slots) * this.averageGradingMs) / slots;
    const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
    throw new ApiError("queue_full", [retryAfterS], { headers: { "retry-after": String(retryAfterS) } });
  }

  /** Throws 503 queue_full if the store's async backlog is at ASYNC_QUEUE_MAX. */
  admitAsync(): void {
    if (this.closed) throw apiError("shutting_down");
    if (this.background < this.options.config.asyncQueueMax) return;
    const retryAfterS = Math.max(1, Math.ceil((this.background * this.averageGradingMs) / this.options.config.workers / 1000));
    throw new ApiError("queue_full", [retryAfterS], { headers: { "retry-after": String(retryAfterS) } });
  }

  /**
   * Grades a stored, queued submission for a client that waits for it; resolves with the finished
   * record. It runs to the end even if the client goes away.
   */
  gradeNow(id: string): Promise<SubmissionRecord> {
    return new Promise((resolve, reject) => {
      this.syncWaiting.push({ id, resolve, reject });
      this.pump();
    });
  }

  /**
   * Runs `work` (one regrade grading) when no live submission, sync or async, waits for a worker and
   * fewer than `limit` gradings of any kind run: live gradings count against the limit, so a regrade
   * takes what live traffic leaves (all of `limit` when there is none), and live work that arrives
   * finds a free worker and a free core. Resolves with `work`'s result.
   */
  whenIdle<T>(work: () => Promise<T>, limit: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = async () => {
        try {
          resolve(await work());
        } catch (error) {
          reject(error);
        }
      };
      if (this.closed) {
        reject(apiError("shutting_down"));
        return;
      }
      this.idleLimit = Math.max(1, limit);
      this.idleWaiting.push({ run, reject });
      this.pump();
    });
  }

  private idleLimit = 1;

  /** A stored async submission is waiting in the store. */
  enqueued(): void {
    this.background++;
    this.pump();
  }

  /** Resolves when the submission is finished (at once if it already is). */
  async finished(id: string): Promise<SubmissionRecord | undefined> {
    const record = await this.options.store.get(id);
    if (record === undefined || !(record.status === "queued" || record.status === "running")) return record;
    return new Promise((resolve) => {
      const list = this.finishedListeners.get(id) ?? [];
      list.push(resolve);
      this.finishedListeners.set(id, list);
    });
  }

  /** The drain's step 3: no more background submissions are started (sync ones still are); what waits stays in the store. */
  stopBackground(): void {
    this.backgroundStopped = true;
  }

  /**
   * Stops taking work. Gradings in flight are not awaited: the sandbox closes with the app, and a
   * submission cut off stays running in the store, so the next start grades it again.
   */
  close(): void {
    this.closed = true;
    clearTimeout(this.paused);
    // Their submissions stay queued in the store and are graded after the next start.
    for (const waiter of this.syncWaiting.splice(0)) waiter.reject(apiError("shutting_down"));
    for (const idle of this.idleWaiting.splice(0)) idle.reject(apiError("shutting_down"));
  }

  private track(work: Promise<void>): void {
    void work.catch((error: unknown) => {
      if (this.closed) this.options.logger.debug({ err: error }, "grading cut off by the shutdown");
      else this.options.logger.error({ err: error }, "grading could not be recorded");
    }).finally(() => {
      this.active--;
      this.pump();
    });
  }

  private pump(): void {
    while (!this.closed && this.active < this.options.config.workers) {
      const waiter = this.syncWaiting.shift();
      if (waiter !== undefined) {
        this.active++;
        this.track(this.runSync(waiter));
        continue;
      }
      if (this.background > 0 && !this.backgroundStopped) {
        // Async work waits in the store: it goes before regrades (claiming it, or after a pause).
        if (this.claiming || this.paused !== undefined) return;
        this.active++;
        this.claiming = true;
        this.track(this.runBackground());
        continue;
      }
      if (this.active >= this.idleLimit || this.paused !== undefined) return;
      const idle = this.idleWaiting.shift();
      if (idle === undefined) return;
      this.active++;
      this.idleActive++;
      this.track(idle.run().finally(() => {
        this.idleActive--;
      }));
    }
  }

  private async runSync(waiter: SyncWaiter): Promise<void> {
    try {
      const record = await this.options.store.start(waiter.id, Date.now(), leaseMs(this.options.config));
      if (record === undefined) throw new Error(`submission ${waiter.id} was not queued`);
      const outcome = await this.grade(record);
      if (outcome === undefined) throw apiError("shutting_down");
      const finished = await this.finish(record, outcome);
      waiter.resolve(finished);
      if (outcome.status === "failed") this.options.logger.warn({ submission: record.id, error: outcome.error.code }, "submission failed");
    } catch (error) {
      waiter.reject(error);
    }
  }

  private async runBackground(): Promise<void> {
    let claimed: SubmissionRecord | undefined;
    try {
      const { config, store } = this.options;
      const result = await store.claimNext(Date.now(), leaseMs(config), config.maxAttempts, {
        code: "grading_failed",
        message: apiError("grading_failed", `the service stopped ${config.maxAttempts} times while grading it`).message,
      });
      for (const failed of result.failed) {
        this.background = Math.max(0, this.background - 1);
        this.options.logger.error({ submission: failed.id, attempts: failed.attempts }, "submission failed: too many attempts");
        this.notifyFinished(failed);
      }
      claimed = result.claimed;
      if (claimed === undefined) {
        // Nothing left to claim (the count drifted): stop asking until something is enqueued.
        this.background = 0;
        return;
      }
      this.background = Math.max(0, this.background - 1);
    } finally {
      this.claiming = false;
    }
    // Another claim may start while this one grades.
    this.pump();
    const outcome = await this.grade(claimed).catch((error: unknown) => {
      this.options.logger.error({ submission: claimed.id, err: error }, "grading threw");
      return { status: "failed", error: { code: "internal_error", message: apiError("internal_error", claimed.id).message } } as Outcome;
    });
    if (outcome === undefined) return; // shutting down: the next start resumes it
    if (outcome.status === "failed" && (outcome.error.code === "sandbox_unavailable" || outcome.error.code === "queue_full")) {
      // Not the submission's fault: it goes back to the queue (the attempt counts, so MAX_ATTEMPTS bounds it).
      await this.options.store.release(claimed.id);
      this.background++;
      this.paused = setTimeout(() => {
        this.paused = undefined;
        this.pump();
      }, UNAVAILABLE_PAUSE_MS);
      return;
    }
    await this.finish(claimed, outcome);
  }

  private async finish(record: SubmissionRecord, outcome: Outcome): Promise<SubmissionRecord> {
    const finished = await this.options.store.finish(record.id, outcome, Date.now(), record.callbackUrl === null ? null : randomUUID());
    if (finished === undefined) throw new Error(`submission ${record.id} was not running`);
    this.notifyFinished(finished);
    return finished;
  }

  private notifyFinished(record: SubmissionRecord): void {
    if (record.webhook?.state === "pending") this.options.onWebhookPending?.();
    const listeners = this.finishedListeners.get(record.id);
    this.finishedListeners.delete(record.id);
    for (const listener of listeners ?? []) listener(record);
  }

  /**
   * Grades one claimed record. A student's fault (even one that kills the worker) is a verdict; a
   * service fault is a failed outcome; undefined means the service is shutting down.
   */
  private async grade(record: SubmissionRecord): Promise<Outcome | undefined> {
    const { packs, pool, config, logger } = this.options;
    const gradable = packs.get(record.assignment);
    if (gradable === undefined) {
      return { status: "failed", error: { code: "assignment_not_found", message: apiError("assignment_not_found", record.assignment).message } };
    }
    const limits = lowerLimits(gradable.limits, record.limits ?? undefined);
    const started = Date.now();
    try {
      const { feedback, report } = await grade(gradable, record.source, limits, { pool, resultMaxDepth: config.resultMaxDepth, internal: true, ...(this.options.typescript !== undefined ? { typescript: this.options.typescript } : {}) }, {
        language: record.language as Feedback["language"],
        text: record.source,
        ...(record.exercises !== null ? { exercises: record.exercises } : {}),
      });
      this.averageGradingMs = 0.9 * this.averageGradingMs + 0.1 * (Date.now() - started);
      const stored: Feedback = { ...feedback, id: record.id };
      logger.info({
        submission: record.id,
        assignment: stored.assignment,
        assignmentVersion: stored.assignmentVersion,
        language: stored.language,
        exercises: record.exercises ?? undefined,
        mode: record.mode,
        attempt: record.attempts,
        status: stored.status,
        rejection: stored.reason?.code,
        score: stored.score,
        maxScore: stored.maxScore,
        tests: statusCounts(stored),
        durationMs: stored.durationMs,
        workerId: report.workerId,
        workerDeath: report.workerDeath,
      }, "graded");
      this.options.onGraded?.(stored);
      return { status: stored.status, feedback: stored };
    } catch (error) {
      if (error instanceof PoolError && error.code === "closed") return undefined;
      this.options.onUngraded?.(record.assignment);
      // The TypeScript threads' queue was full: not the submission's fault, and the client may come back.
      if (error instanceof PoolError && error.code === "queue_full") return { status: "failed", error: { code: "queue_full", message: apiError("queue_full", BUSY_RETRY_AFTER_S).message } };
      if (error instanceof PoolError) return { status: "failed", error: { code: "sandbox_unavailable", message: apiError("sandbox_unavailable", error.message).message } };
      throw error;
    }
  }
}
