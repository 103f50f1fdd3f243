import { randomUUID } from "node:crypto";
import { availableParallelism } from "node:os";
import type { Config } from "../config.js";
import { apiError } from "../errors.js";
import type { Feedback } from "../grading/feedback.js";
import { grade } from "../grading/grade.js";
import type { StripPool } from "../grading/strip-pool.js";
import { lowerLimits } from "../limits.js";
import type { Log } from "../logger.js";
import type { Registry } from "../packs/registry.js";
import type { GradablePack, PackFiles } from "../packs/types.js";
import { PoolError, type SandboxPool } from "../sandbox/pool.js";
import type { RegradeRecord, RegradeScope, SubmissionStore } from "../store/store.js";
import type { GradingQueue } from "../submissions/queue.js";
import { compareGradings, scoreMoved } from "./compare.js";

export interface RegradeRunnerOptions {
  store: SubmissionStore;
  queue: GradingQueue;
  packs: Pick<Registry, "get" | "install" | "prepare" | "previous">;
  pool: SandboxPool;
  typescript?: StripPool;
  config: Pick<Config, "workers" | "regradeWorkers" | "resultMaxDepth" | "webhookSecret">;
  logger: Log;
  /** Called when a regraded submission's webhook became pending. */
  onWebhookPending?: () => void;
}

export interface RegradeRequest {
  dryRun: boolean;
  scope: RegradeScope;
  /** A draft pack's files: previewed (dry run) or installed first (real). */
  pack?: PackFiles;
}

/** Where a running regrade is, in this process. */
interface Run {
  cancelled: boolean;
  /** Packs that name the cases of stored gradings (the one a real regrade replaced). */
  packs: GradablePack["pack"][];
  finished: Promise<void>;
}

/** Why the service itself could not grade (not the student's doing): the regrade stops, and resumes after a restart. */
class Stopped extends Error {}

/**
 * Regrades (issue #16): grades an assignment's stored submissions again, against a draft (a dry run:
 * nothing about the submissions is stored) or the live pack (for real: each gets a new grading in its
 * history, and a `submission.regraded` webhook when its score moved). Each grading waits for a worker
 * no live submission wants (GradingQueue.whenIdle). Every result is in the store as soon as it is
 * known, so a restart resumes with the submissions not yet done, and a cancel keeps what is done.
 */
export class RegradeRunner {
  private readonly runs = new Map<string, Run>();
  private stopped = false;

  constructor(private readonly options: RegradeRunnerOptions) {}

  /**
   * Gradings (live ones included) below which a regrade starts another: REGRADE_WORKERS, or by
   * default one per core and never every worker. Workers past the cores (WORKERS defaults to two per
   * core) are there for live gradings that wait on a limit; a regrade on them would only take CPU
   * from live traffic, which is what the live p50's target forbids.
   */
  private concurrency(): number {
    const { workers, regradeWorkers } = this.options.config;
    if (regradeWorkers > 0) return Math.min(regradeWorkers, workers);
    return Math.max(1, Math.min(workers - 1, availableParallelism()));
  }

  /**
   * Starts a regrade of `assignment`. A draft pack is validated and self-tested first (PackError),
   * and installed when the regrade is real. Resolves once the regrade is stored and running.
   */
  async create(assignment: string, request: RegradeRequest): Promise<RegradeRecord> {
    const { packs, store } = this.options;
    if (this.stopped) throw apiError("shutting_down");
    let gradable = packs.get(assignment);
    const previous = gradable;
    if (request.pack === undefined && gradable === undefined) throw apiError("assignment_not_found", assignment);
    if (request.pack !== undefined) {
      gradable = request.dryRun ? (await packs.prepare(assignment, request.pack)).gradable : (await packs.install(assignment, request.pack)).gradable;
    }
    if (gradable === undefined) throw apiError("assignment_not_found", assignment);
    const record = await store.createRegrade({
      id: randomUUID(),
      assignment,
      version: gradable.pack.hash,
      dryRun: request.dryRun,
      scope: request.scope,
      draft: request.dryRun && request.pack !== undefined ? Object.fromEntries(request.pack) : null,
      createdAt: Date.now(),
    });
    this.options.logger.info({ regrade: record.id, assignment, assignmentVersion: record.version, dryRun: record.dryRun, scope: record.scope, total: record.total }, "regrade started");
    this.launch(record, gradable, previous === undefined ? [] : [previous.pack]);
    return record;
  }

  /** Cancels a running regrade: what is done stays, the rest is not graded. False if it was not running. */
  async cancel(id: string): Promise<boolean> {
    const cancelled = await this.options.store.finishRegrade(id, "cancelled", Date.now(), "cancelled by a client");
    const run = this.runs.get(id);
    if (run !== undefined) run.cancelled = true;
    if (cancelled) this.options.logger.info({ regrade: id }, "regrade cancelled");
    return cancelled;
  }

  /**
   * At start: each regrade a stop cut off resumes with the submissions not yet done, if the pack it
   * grades against is still there (the live pack at the same version, or its draft, prepared again);
   * otherwise it is marked failed, with what was done kept.
   */
  async resume(): Promise<{ resumed: number; failed: number }> {
    const { store, packs, logger } = this.options;
    let resumed = 0;
    let failed = 0;
    for (const record of await store.runningRegrades()) {
      let gradable: GradablePack | undefined;
      let reason: string | undefined;
      try {
        if (record.draft !== null) gradable = (await packs.prepare(record.assignment, new Map(Object.entries(record.draft)))).gradable;
        else gradable = packs.get(record.assignment);
      } catch (error) {
        reason = `its draft pack could not be prepared again (${(error as Error).message})`;
      }
      if (gradable !== undefined && gradable.pack.hash !== record.version) {
        reason = `the pack changed since it started (version ${gradable.pack.hash} is live, it graded against ${record.version})`;
        gradable = undefined;
      }
      if (gradable === undefined) {
        reason ??= `assignment ${record.assignment} is no longer installed`;
        const done = (await store.getRegrade(record.id))?.done ?? record.done;
        await store.finishRegrade(record.id, "failed", Date.now(), `the service restarted and ${reason}; ${done} of ${record.total} were done`);
        logger.warn({ regrade: record.id, reason }, "regrade could not resume");
        failed++;
        continue;
      }
      logger.info({ regrade: record.id, done: record.done, total: record.total }, "resuming regrade");
      this.launch(record, gradable);
      resumed++;
    }
    return { resumed, failed };
  }

  /** Stops starting gradings (drain, close); running regrades stay running in the store and resume after the next start. */
  stop(): void {
    this.stopped = true;
  }

  /** Resolves when every regrade of this process has stopped (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.runs.values()].map((r) => r.finished));
  }

  private launch(record: RegradeRecord, gradable: GradablePack, packs: GradablePack["pack"][] = []): void {
    const run: Run = { cancelled: false, packs, finished: Promise.resolve() };
    run.finished = this.run(record, gradable, run)
      .catch(async (error: unknown) => {
        if (error instanceof Stopped || this.stopped) {
          this.options.logger.info({ regrade: record.id }, "regrade paused by the shutdown; it resumes after the next start");
          return;
        }
        this.options.logger.error({ regrade: record.id, err: error }, "regrade failed");
        const done = (await this.options.store.getRegrade(record.id))?.done ?? 0;
        await this.options.store.finishRegrade(record.id, "failed", Date.now(), `the service could not go on (${(error as Error).message}); ${done} of ${record.total} were done`);
      })
      .catch((error: unknown) => this.options.logger.error({ regrade: record.id, err: error }, "regrade's failure could not be recorded"))
      .finally(() => this.runs.delete(record.id));
    this.runs.set(record.id, run);
  }

  private async run(record: RegradeRecord, gradable: GradablePack, run: Run): Promise<void> {
    const pending = await this.options.store.pendingRegradeItems(record.id);
    let next = 0;
    // A few lanes, each asking the queue for an idle worker for its next submission.
    const lane = async () => {
      while (!run.cancelled && !this.stopped) {
        const id = pending[next++];
        if (id === undefined) return;
        await this.options.queue.whenIdle(() => this.regradeOne(record, gradable, id, run), this.concurrency())
          .catch((error: unknown) => {
            throw this.stopped || (error instanceof Error && "code" in error && error.code === "shutting_down") ? new Stopped() : error;
          });
      }
    };
    await Promise.all(Array.from({ length: this.concurrency() }, lane));
    if (run.cancelled) return;
    if (this.stopped) throw new Stopped();
    if (await this.options.store.finishRegrade(record.id, "done", Date.now(), null)) {
      const finished = await this.options.store.getRegrade(record.id);
      this.options.logger.info({ regrade: record.id, total: finished?.total, counts: finished?.counts }, "regrade done");
    }
  }

  /** Grades one stored submission again and records the result (and, for real, the new grading). */
  private async regradeOne(record: RegradeRecord, gradable: GradablePack, id: string, run: Run): Promise<void> {
    if (run.cancelled || this.stopped) return;
    const { store, pool, config, typescript, logger } = this.options;
    const submission = await store.get(id);
    const before = submission?.feedback ?? null;
    if (submission === undefined || before === null || submission.sourceBlanked) {
      // Its source was blanked by SOURCE_RETENTION_DAYS (or it has no grading): it cannot be graded again.
      await store.recordRegradeItem(record.id, id, { outcome: "errored", change: null });
      return;
    }
    let after: Feedback;
    try {
      const limits = lowerLimits(gradable.limits, submission.limits ?? undefined);
      const graded = await grade(gradable, submission.source, limits, { pool, resultMaxDepth: config.resultMaxDepth, internal: true, ...(typescript !== undefined ? { typescript } : {}) }, {
        language: submission.language as Feedback["language"],
        text: submission.source,
        ...(submission.exercises !== null ? { exercises: submission.exercises } : {}),
      });
      after = { ...graded.feedback, id: submission.id };
    } catch (error) {
      if (error instanceof PoolError && error.code === "closed") throw new Stopped();
      logger.warn({ regrade: record.id, submission: id, err: error }, "regrade could not grade a submission");
      await store.recordRegradeItem(record.id, id, { outcome: "errored", change: null });
      return;
    }
    // The packs that name the tests' cases: the one graded against, the live one (most stored gradings'), and the one it replaced.
    const live = this.options.packs.get(record.assignment);
    const previous = this.options.packs.previous(record.assignment);
    const known = [gradable, live, previous].flatMap((g) => (g === undefined ? [] : [g.pack]));
    const result = compareGradings(submission, before, after, [...known, ...run.packs]);
    if (record.dryRun) {
      await store.recordRegradeItem(record.id, id, result);
      return;
    }
    const notify = scoreMoved(before, after) && submission.callbackUrl !== null && config.webhookSecret !== "";
    const applied = await store.applyRegradeItem(record.id, id, after, result, Date.now(), notify ? randomUUID() : null);
    if (applied?.webhook?.state === "pending" && notify) this.options.onWebhookPending?.();
  }
}
