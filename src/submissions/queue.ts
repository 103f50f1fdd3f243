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
import type { Claim, Outcome, StoreEvent, SubmissionRecord, SubmissionStore } from "../store/store.js";
import { LeaseKeeper, RENEWALS_PER_LEASE } from "./lease.js";

/**
 * The one queue in front of the grading workers, for both modes, and the one place that admits or
 * refuses work. Every submission waits in the store, which every node sharing it sees:
 * - a synchronous one waits in the store's sync lane while its client holds the connection to the
 *   node that received it; any node with a free worker claims it first, and the receiving node hears
 *   of its result through the store. A node refuses one with 503 past QUEUE_LENGTH of its own waiting;
 * - an asynchronous one waits in the background lane (it survives a crash) and is refused past
 *   ASYNC_QUEUE_MAX waiting in the store.
 * A node runs at most one grading per worker (none with ROLE=api), and a free worker takes sync work
 * first: an async backlog of any size delays a sync request by at most the gradings already running.
 * A claim is a lease (LEASE_S) renewed while grading: if the node dies, the lease runs out and any
 * node claims the submission again, up to MAX_ATTEMPTS. The result is stored only under the claim
 * that graded it, so exactly one result is kept. Nodes wait for the store's events, not a polling loop.
 * Every grading is recorded: queued -> running -> graded | rejected | failed.
 */

export interface GradingQueueOptions {
  store: SubmissionStore;
  pool: SandboxPool;
  /** The service's TypeScript stripping threads (off the event loop). */
  typescript?: StripPool;
  packs: { get(id: string): GradablePack | undefined };
  config: Pick<Config, "workers" | "queueLength" | "asyncQueueMax" | "maxAttempts" | "resultMaxDepth" | "killGraceMs" | "limits" | "leaseS" | "role">;
  logger: Log;
  /** Called when a submission ends with a pending webhook. */
  onWebhookPending?: () => void;
  /** Called with each grading's feedback, and with the assignment of each the service could not grade (metrics). */
  onGraded?: (feedback: Feedback) => void;
  onUngraded?: (assignment: string) => void;
}

function statusCounts(feedback: Feedback): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const test of feedback.exercises.flatMap((e) => e.tests)) counts[test.status] = (counts[test.status] ?? 0) + 1;
  return counts;
}

/** A pause before the background lane tries again after the sandbox was unavailable. */
const UNAVAILABLE_PAUSE_MS = 1000;
/** The first pause after the store failed a claim (the database is down); it doubles up to a lease's renewal period. */
const STORE_RETRY_MS = 250;
/** How stale the async backlog's count may be when ASYNC_QUEUE_MAX is checked (other nodes add to it). */
const BACKLOG_REFRESH_MS = 1000;

/** Someone on this node waiting for a submission's final record. */
interface Waiter {
  resolve: (record: SubmissionRecord) => void;
  reject: (error: unknown) => void;
}

export class GradingQueue {
  /** Sync submissions this node received and answers, not yet finished anywhere. */
  private readonly syncHere = new Map<string, { deadline: NodeJS.Timeout }>();
  /** Ids of the sync submissions this node is grading now (the rest of syncHere waits for a worker). */
  private readonly syncGradingHere = new Set<string>();
  private readonly waiters = new Map<string, Waiter[]>();
  private active = 0;
  /** Background submissions queued in the store (not running), as last counted: what ASYNC_QUEUE_MAX bounds. */
  private background = 0;
  private backgroundCountedAt = 0;
  private counting: Promise<void> | undefined;
  private claiming = false;
  /** Work may be claimable: set by the store's events and the lease timer, cleared when a claim finds nothing. */
  private wanted = true;
  /** Set by the drain: background work not yet started stays queued in the store (for the next start, or another node). */
  private backgroundStopped = false;
  private paused: NodeJS.Timeout | undefined;
  private storeRetryMs = STORE_RETRY_MS;
  private leaseTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  private averageGradingMs = 50;
  private readonly leaseMs: number;
  /** Gradings at once on this node: none on an api-only node. */
  private readonly slots: number;
  /** Low-priority work (regrades), run only on workers no live submission wants. */
  private readonly idleWaiting: Array<{ run: () => Promise<void>; reject: (error: unknown) => void }> = [];
  private idleActive = 0;

  constructor(private readonly options: GradingQueueOptions) {
    this.leaseMs = options.config.leaseS * 1000;
    this.slots = options.config.role === "api" ? 0 : options.config.workers;
  }

  /**
   * At start: on an engine only this process uses, everything a crash left queued or running goes
   * back to the background lane (a shared engine leaves that to the leases). Then it listens to the
   * store and looks for work.
   */
  async start(): Promise<{ resumed: number }> {
    const { store, logger } = this.options;
    const resumed = await store.recover();
    this.background = await store.countQueued();
    this.backgroundCountedAt = Date.now();
    if (resumed > 0) logger.info({ resumed }, "resuming submissions left queued or running");
    this.unsubscribe = store.subscribe((event) => this.onStoreEvent(event));
    // No event says a lease ran out (a node died), and an event may be lost with the connection: look
    // again at each renewal period. One claim query per node per period is not a polling load.
    this.leaseTimer = setInterval(() => {
      this.wanted = true;
      this.pump();
      this.recheckWaiters();
    }, this.leaseMs / RENEWALS_PER_LEASE);
    this.leaseTimer.unref();
    this.pump();
    return { resumed };
  }

  stats(): { active: number; syncWaiting: number; background: number } {
    return { active: this.active, syncWaiting: this.syncHere.size - this.syncGradingHere.size, background: this.background };
  }

  /** Throws 503 queue_full if a sync submission could not get a worker here or a place in this node's queue now. */
  admitSync(): void {
    if (this.closed) throw apiError("shutting_down");
    const waiting = this.syncHere.size - this.syncGradingHere.size;
    if (this.active < this.slots || waiting < this.options.config.queueLength) return;
    const slots = Math.max(1, this.slots);
    const waitMs = ((waiting + slots) * this.averageGradingMs) / slots;
    const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
    throw new ApiError("queue_full", [retryAfterS], { headers: { "retry-after": String(retryAfterS) } });
  }

  /** Throws 503 queue_full if the store's async backlog is at ASYNC_QUEUE_MAX. */
  async admitAsync(): Promise<void> {
    if (this.closed) throw apiError("shutting_down");
    if (Date.now() - this.backgroundCountedAt > BACKLOG_REFRESH_MS) await this.countBackground();
    if (this.background < this.options.config.asyncQueueMax) return;
    const retryAfterS = Math.max(1, Math.ceil((this.background * this.averageGradingMs) / Math.max(1, this.slots) / 1000));
    throw new ApiError("queue_full", [retryAfterS], { headers: { "retry-after": String(retryAfterS) } });
  }

  /**
   * Waits for a stored, queued sync submission to be graded by whichever node claims it first (this
   * one, if it has a free worker); resolves with the finished record. It runs to the end even if the
   * client goes away. If no node has started it within LEASE_S, it is withdrawn (failed queue_full)
   * and the client gets 503 with Retry-After.
   */
  gradeNow(id: string): Promise<SubmissionRecord> {
    const result = this.waitFor(id);
    const deadline = setTimeout(() => void this.withdraw(id), this.leaseMs);
    deadline.unref();
    this.syncHere.set(id, { deadline });
    void result.catch(() => undefined).finally(() => {
      clearTimeout(deadline);
      this.syncHere.delete(id);
    });
    this.wanted = true;
    this.pump();
    // It may have been claimed and finished elsewhere before this node listened for it.
    void this.recheck(id);
    return result;
  }

  /**
   * Runs `work` (one regrade grading) when no live submission, sync or async, waits for a worker and
   * fewer than `limit` gradings of any kind run: live gradings count against the limit, so a regrade
   * takes what live traffic leaves (all of `limit` when there is none), and live work that arrives
   * finds a free worker and a free core. Resolves with `work`'s result.
   */
  whenIdle<T>(work: () => Promise<T>, limit: () => number): Promise<T> {
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
      this.idleLimit = limit;
      this.idleWaiting.push({ run, reject });
      this.pump();
    });
  }

  private idleLimit: () => number = () => 1;
  private lastLiveStart = 0;

  /** Milliseconds since a live grading (sync or async) last started. */
  sinceLive(now = Date.now()): number {
    return now - this.lastLiveStart;
  }

  /** A stored async submission is waiting in the store. */
  enqueued(): void {
    this.background++;
    this.wanted = true;
    this.pump();
  }

  /** Resolves when the submission is finished, on any node (at once if it already is). */
  async finished(id: string): Promise<SubmissionRecord | undefined> {
    const record = await this.options.store.get(id);
    if (record === undefined || !(record.status === "queued" || record.status === "running")) return record;
    const result = this.waitFor(id);
    void this.recheck(id);
    return result;
  }

  /** The drain's step 3: no more background submissions are started (sync ones still are); what waits stays in the store. */
  stopBackground(): void {
    this.backgroundStopped = true;
  }

  /**
   * Stops taking work. Gradings in flight are not awaited: the sandbox closes with the app, and a
   * submission cut off stays running in the store until its lease runs out (or the next start on SQLite).
   */
  close(): void {
    this.closed = true;
    clearTimeout(this.paused);
    clearInterval(this.leaseTimer);
    this.unsubscribe?.();
    // Their submissions stay in the store and are graded later (another node, or the next start).
    for (const [id, list] of this.waiters) {
      this.waiters.delete(id);
      for (const waiter of list) waiter.reject(apiError("shutting_down"));
    }
    for (const idle of this.idleWaiting.splice(0)) idle.reject(apiError("shutting_down"));
  }

  private waitFor(id: string): Promise<SubmissionRecord> {
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(id) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(id, list);
    });
  }

  private settle(record: SubmissionRecord): void {
    const list = this.waiters.get(record.id);
    if (list === undefined) return;
    this.waiters.delete(record.id);
    for (const waiter of list) waiter.resolve(record);
  }

  /** Reads a waited-for submission again, and settles its waiters if it is finished. */
  private async recheck(id: string): Promise<void> {
    try {
      const record = await this.options.store.get(id);
      if (record !== undefined && record.status !== "queued" && record.status !== "running") this.settle(record);
    } catch (error) {
      this.options.logger.warn({ submission: id, err: error }, "could not read a submission waited for; trying again later");
    }
  }

  private recheckWaiters(): void {
    for (const id of this.waiters.keys()) void this.recheck(id);
  }

  /** A sync submission no node started in time: failed queue_full, unless a node started it meanwhile. */
  private async withdraw(id: string): Promise<void> {
    const retryAfterS = Math.max(1, Math.ceil(this.leaseMs / 1000));
    try {
      const record = await this.options.store.withdraw(id, { code: "queue_full", message: apiError("queue_full", retryAfterS).message }, Date.now());
      if (record === undefined) return; // started somewhere: its result will come
      this.options.logger.warn({ submission: id, waitedMs: this.leaseMs }, "no node started a sync submission in time; withdrawn");
      this.settle(record);
    } catch (error) {
      this.options.logger.warn({ submission: id, err: error }, "could not withdraw a sync submission; still waiting for it");
    }
  }

  private onStoreEvent(event: StoreEvent): void {
    if (event.kind === "finished") {
      if (this.waiters.has(event.id)) void this.recheck(event.id);
      return;
    }
    // A pack installed on some node is the pack sync's business (src/packs/sync.ts), not the queue's.
    if (event.kind === "pack") return;
    if (event.kind === "resync") this.recheckWaiters();
    this.wanted = true;
    this.pump();
  }

  private async countBackground(): Promise<void> {
    this.counting ??= this.options.store.countQueued().then((n) => {
      this.background = n;
      this.backgroundCountedAt = Date.now();
    }).finally(() => {
      this.counting = undefined;
    });
    await this.counting;
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
    if (this.closed) return;
    if (this.active < this.slots && !this.claiming && this.paused === undefined && this.wanted) {
      this.active++;
      this.claiming = true;
      // Cleared before the claim: an event during it sets it again, so no wake-up is lost.
      this.wanted = false;
      this.track(this.claimAndGrade());
      return;
    }
    // Regrades take only what live work leaves: no claim under way or wanted (the last one found the
    // store empty), and fewer than their limit of gradings of any kind running.
    while (!this.closed && !this.wanted && !this.claiming && this.paused === undefined && this.active < Math.min(this.slots, Math.max(1, this.idleLimit()))) {
      const idle = this.idleWaiting.shift();
      if (idle === undefined) return;
      this.active++;
      this.idleActive++;
      this.track(idle.run().finally(() => {
        this.idleActive--;
      }));
    }
  }

  private pause(ms: number): void {
    clearTimeout(this.paused);
    this.paused = setTimeout(() => {
      this.paused = undefined;
      this.wanted = true;
      this.pump();
    }, ms);
    this.paused.unref();
  }

  private async claimAndGrade(): Promise<void> {
    let claimed: SubmissionRecord | undefined;
    try {
      const { config, store } = this.options;
      let result: Awaited<ReturnType<SubmissionStore["claimNext"]>>;
      try {
        result = await store.claimNext(Date.now(), this.leaseMs, config.maxAttempts, {
          code: "grading_failed",
          message: apiError("grading_failed", `the service stopped ${config.maxAttempts} times while grading it`).message,
        }, { sync: true, background: !this.backgroundStopped });
      } catch (error) {
        // The store is down (a database restart): nothing is lost, the work waits there. Try again later.
        if (!this.closed) this.options.logger.warn({ err: error, retryMs: this.storeRetryMs }, "could not claim work from the store; trying again");
        this.pause(this.storeRetryMs);
        this.storeRetryMs = Math.min(2 * this.storeRetryMs, this.leaseMs / RENEWALS_PER_LEASE);
        return;
      }
      this.storeRetryMs = STORE_RETRY_MS;
      for (const failed of result.failed) {
        this.options.logger.error({ submission: failed.id, attempts: failed.attempts }, "submission failed: too many attempts");
        if (failed.webhook?.state === "pending") this.options.onWebhookPending?.();
        this.settle(failed);
      }
      claimed = result.claimed;
      if (claimed === undefined) {
        // Nothing left to claim: wait for the store's next event (or the lease timer).
        if (!this.backgroundStopped) this.background = 0;
        return;
      }
      // A live grading starts (regrades yield a core while these keep coming).
      this.lastLiveStart = Date.now();
      if (claimed.mode === "async") this.background = Math.max(0, this.background - 1);
      // There may be more: another claim may start while this one grades.
      this.wanted = true;
    } finally {
      this.claiming = false;
    }
    this.pump();
    await this.gradeClaimed(claimed);
  }

  private async gradeClaimed(claimed: SubmissionRecord): Promise<void> {
    const claim: Claim = { id: claimed.id, attempt: claimed.attempts };
    const here = this.syncHere.has(claimed.id);
    if (here) this.syncGradingHere.add(claimed.id);
    const lease = new LeaseKeeper({
      renew: (now, leaseMs) => this.options.store.renewLease(claim, now, leaseMs),
      fields: { submission: claim.id, attempt: claim.attempt },
      lostMessage: "lease lost: another node has this submission now",
    }, this.leaseMs, this.options.logger);
    let outcome: Outcome | undefined;
    try {
      outcome = await this.grade(claimed).catch((error: unknown): Outcome => {
        this.options.logger.error({ submission: claimed.id, err: error }, "grading threw");
        return { status: "failed", error: { code: "internal_error", message: apiError("internal_error", claimed.id).message } };
      });
    } finally {
      lease.stop();
      this.syncGradingHere.delete(claimed.id);
    }
    if (outcome === undefined) return; // shutting down: its lease runs out (or the next start resumes it)
    if (claimed.mode === "async" && outcome.status === "failed" && (outcome.error.code === "sandbox_unavailable" || outcome.error.code === "queue_full")) {
      // Not the submission's fault: it goes back to the queue (the attempt counts, so MAX_ATTEMPTS bounds it).
      await this.options.store.release(claimed.id, claim.attempt);
      this.pause(UNAVAILABLE_PAUSE_MS);
      return;
    }
    await this.finish(claimed, claim, outcome, lease.lost);
    if (outcome.status === "failed" && claimed.mode === "sync") this.options.logger.warn({ submission: claimed.id, error: outcome.error.code }, "submission failed");
  }

  /**
   * Stores the result under this node's claim. A database restart may refuse the first tries, so it
   * tries again for up to a lease; after that another node has the submission (at least once).
   */
  private async finish(record: SubmissionRecord, claim: Claim, outcome: Outcome, leaseLost: boolean): Promise<void> {
    const eventId = record.callbackUrl === null ? null : randomUUID();
    const giveUpAt = Date.now() + this.leaseMs;
    let delay = STORE_RETRY_MS;
    for (;;) {
      try {
        const finished = await this.options.store.finish(record.id, outcome, Date.now(), eventId, claim.attempt);
        if (finished === undefined) {
          // Another node claimed it again after this node's lease ran out, and its result counts.
          this.options.logger.warn({ submission: record.id, attempt: claim.attempt, leaseLost }, "result not stored: the submission is no longer this node's");
          return;
        }
        if (finished.webhook?.state === "pending") this.options.onWebhookPending?.();
        this.settle(finished);
        return;
      } catch (error) {
        if (this.closed || Date.now() + delay > giveUpAt) throw error;
        this.options.logger.warn({ submission: record.id, err: error, retryMs: delay }, "could not store a result; trying again");
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(2 * delay, this.leaseMs / RENEWALS_PER_LEASE);
      }
    }
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
