import { randomUUID } from "node:crypto";
import { availableParallelism } from "node:os";
import type { Config } from "../config.js";
import { apiError } from "../errors.js";
import type { Feedback } from "../grading/feedback.js";
import { grade } from "../grading/grade.js";
import type { StripPool } from "../grading/strip-pool.js";
import { lowerLimits } from "../limits.js";
import type { Log } from "../logger.js";
import { regradeKind, type RegradeEvent, type RegradeGauges, type RegradeKind } from "../metrics/regrades.js";
import type { Registry } from "../packs/registry.js";
import type { GradablePack, PackFiles } from "../packs/types.js";
import { PoolError, type SandboxPool } from "../sandbox/pool.js";
import type { RegradeItemResult, RegradeRecord, RegradeScope, SubmissionStore } from "../store/store.js";
import { LeaseKeeper, RENEWALS_PER_LEASE } from "../submissions/lease.js";
import type { GradingQueue } from "../submissions/queue.js";
import { compareGradings, scoreMoved } from "./compare.js";

export interface RegradeRunnerOptions {
  store: SubmissionStore;
  queue: GradingQueue;
  packs: Pick<Registry, "get" | "install" | "prepare" | "previous">;
  pool: SandboxPool;
  typescript?: StripPool;
  config: Pick<Config, "workers" | "regradeWorkers" | "resultMaxDepth" | "webhookSecret" | "leaseS">;
  logger: Log;
  /** Called when a regraded submission's webhook became pending. */
  onWebhookPending?: () => void;
  /** Called with each item recorded and each regrade this node ends (metrics). */
  onEvent?: (event: RegradeEvent) => void;
}

export interface RegradeRequest {
  dryRun: boolean;
  scope: RegradeScope;
  /** A draft pack's files: previewed (dry run) or installed first (real). */
  pack?: PackFiles;
}

/** After this long without a live grading starting, a regrade takes every core (REGRADE_WORKERS=0). */
const LIVE_QUIET_MS = 5000;

/** Where a running regrade is, in this process. */
interface Run {
  /** Cancelled here, or no longer this node's (its lease was refused): it stops without finishing. */
  cancelled: boolean;
  /** The claim it runs under (the fencing token of its lease). */
  claim: number;
  dryRun: boolean;
  /** Submissions not yet started (metrics). */
  waiting: number;
  /** Packs that name the cases of stored gradings (the one a real regrade replaced). */
  packs: GradablePack["pack"][];
  finished: Promise<void>;
  keeper?: LeaseKeeper;
}

/** Why the service itself could not grade (not the student's doing): the regrade stops, and resumes after a restart or on another node. */
class Stopped extends Error {}

/**
 * Regrades (issue #16): grades an assignment's stored submissions again, against a draft (a dry run:
 * nothing about the submissions is stored) or the live pack (for real: each gets a new grading in its
 * history, and a `submission.regraded` webhook when its score moved). Each grading waits for a worker
 * no live submission wants (GradingQueue.whenIdle). Every result is in the store as soon as it is
 * known, so a restart resumes with the submissions not yet done, and a cancel keeps what is done.
 * A regrade is held by one node at a time through a lease (LEASE_S, renewed every third of it): the
 * node that creates it holds it; a node claims the running regrades whose lease ran out (a node died
 * or stopped) at start and every third of LEASE_S, and resumes them. Every item is recorded under the
 * claim, so a node that lost its lease cannot record an item twice.
 */
export class RegradeRunner implements RegradeGauges {
  private readonly runs = new Map<string, Run>();
  private inFlight = 0;
  private stopped = false;
  private claimTimer: NodeJS.Timeout | undefined;
  private claiming = false;

  constructor(private readonly options: RegradeRunnerOptions) {}

  /**
   * Gradings (live ones included) below which a regrade starts another: REGRADE_WORKERS, or by
   * default one per core while no live grading started for LIVE_QUIET_MS, and one core fewer while
   * live traffic flows, never every worker. Workers past the cores (WORKERS defaults to two per core)
   * are there for live gradings that wait on a limit; a regrade on them, or on every core while live
   * requests keep coming, only takes CPU from live traffic (bench/README.md: live p50 x1.9 to x3 with
   * every core, x1.3 with one core fewer).
   */
  private concurrency(): number {
    const { workers, regradeWorkers } = this.options.config;
    if (regradeWorkers > 0) return Math.min(regradeWorkers, workers);
    const cores = availableParallelism();
    const live = this.options.queue.sinceLive() < LIVE_QUIET_MS;
    return Math.max(1, Math.min(workers - 1, live ? cores - 1 : cores));
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
    }, this.leaseMs());
    this.options.logger.info({ regrade: record.id, assignment, assignmentVersion: record.version, dryRun: record.dryRun, scope: record.scope, total: record.total }, "regrade started");
    this.launch(record, gradable, previous === undefined ? [] : [previous.pack]);
    return record;
  }

  /**
   * Cancels a running regrade, from any node: what is done stays, the rest is not graded. A holder on
   * another node stops at its next renewal (refused). False if it was not running.
   */
  async cancel(id: string): Promise<boolean> {
    const cancelled = await this.options.store.finishRegrade(id, "cancelled", Date.now(), "cancelled by a client");
    const run = this.runs.get(id);
    if (run !== undefined) run.cancelled = true;
    if (cancelled) {
      this.options.logger.info({ regrade: id }, "regrade cancelled");
      // The node that cancels counts it: the one running it may be another.
      const record = run === undefined ? await this.options.store.getRegrade(id) : undefined;
      const dryRun = run?.dryRun ?? record?.dryRun;
      if (dryRun !== undefined) this.emit({ type: "ended", dryRun, status: "cancelled" });
    }
    return cancelled;
  }

  running(): Record<RegradeKind, number> {
    const counts: Record<RegradeKind, number> = { dry_run: 0, real: 0 };
    for (const run of this.runs.values()) if (!run.cancelled) counts[regradeKind(run.dryRun)]++;
    return counts;
  }

  gradingsInFlight(): number {
    return this.inFlight;
  }

  itemsWaiting(): number {
    let waiting = 0;
    for (const run of this.runs.values()) if (!run.cancelled) waiting += run.waiting;
    return waiting;
  }

  private emit(event: RegradeEvent): void {
    this.options.onEvent?.(event);
  }

  private leaseMs(): number {
    return this.options.config.leaseS * 1000;
  }

  /**
   * Resumes what is claimable now, then looks again every third of LEASE_S (a node that died leaves
   * its regrades claimable when their lease runs out; no event says so). Errors are logged, not thrown:
   * the next period tries again.
   */
  async start(): Promise<{ resumed: number; failed: number }> {
    const first = await this.resume();
    if (!this.stopped) {
      this.claimTimer = setInterval(() => {
        this.resume().catch((error: unknown) => this.options.logger.warn({ err: error }, "could not look for regrades to resume; trying again"));
      }, this.leaseMs() / RENEWALS_PER_LEASE);
      this.claimTimer.unref();
    }
    return first;
  }

  /**
   * Claims, one at a time, the running regrades whose lease ran out (at start: the ones a stop cut off;
   * later: those of a node that died). Each resumes with the submissions not yet done, if the pack it
   * grades against is still there (the live pack at the same version, or its draft, prepared again);
   * otherwise it is marked failed, with what was done kept.
   */
  async resume(): Promise<{ resumed: number; failed: number }> {
    const { store } = this.options;
    let resumed = 0;
    let failed = 0;
    if (this.claiming) return { resumed, failed };
    this.claiming = true;
    try {
      for (;;) {
        if (this.stopped) break;
        const record = await store.claimRegrade(Date.now(), this.leaseMs());
        if (record === undefined) break;
        if (await this.resumeClaimed(record)) resumed++;
        else failed++;
      }
    } finally {
      this.claiming = false;
    }
    return { resumed, failed };
  }

  /** Resumes a regrade this node just claimed; false when it cannot (its pack is gone or changed) and is marked failed. */
  private async resumeClaimed(record: RegradeRecord): Promise<boolean> {
    const { store, packs, logger } = this.options;
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
      if (await store.finishRegrade(record.id, "failed", Date.now(), `it was resumed (after a stop, here or on another node) and ${reason}; ${done} of ${record.total} were done`, record.claim)) {
        this.emit({ type: "ended", dryRun: record.dryRun, status: "failed" });
      }
      logger.warn({ regrade: record.id, reason }, "regrade could not resume");
      return false;
    }
    logger.info({ regrade: record.id, done: record.done, total: record.total, claim: record.claim }, "resuming regrade");
    const stale = this.runs.get(record.id);
    if (stale === undefined) this.launch(record, gradable);
    else {
      // This node stalled past its own lease and claimed the regrade again: the stale run stops (its claim is refused), then the new one starts.
      stale.cancelled = true;
      const fresh = gradable;
      void stale.finished.then(() => this.launch(record, fresh));
    }
    return true;
  }

  /**
   * Stops starting gradings (drain, close) and claiming regrades; running regrades stay running in the
   * store, their leases ended, so that another node (or this one after its restart) resumes them at once.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.claimTimer !== undefined) clearInterval(this.claimTimer);
    await Promise.all([...this.runs.entries()].map(async ([id, run]) => {
      run.keeper?.stop();
      try {
        await this.options.store.releaseRegrade(id, run.claim);
      } catch (error) {
        this.options.logger.warn({ regrade: id, err: error }, "could not end a regrade's lease; another node resumes it when the lease runs out");
      }
    }));
  }

  /** Resolves when every regrade of this process has stopped (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.runs.values()].map((r) => r.finished));
  }

  private launch(record: RegradeRecord, gradable: GradablePack, packs: GradablePack["pack"][] = []): void {
    const run: Run = { cancelled: false, claim: record.claim, dryRun: record.dryRun, waiting: 0, packs, finished: Promise.resolve() };
    if (this.stopped) {
      // Claimed as this node stopped: its lease ends now, for another node to take.
      void this.options.store.releaseRegrade(record.id, record.claim).catch((error: unknown) => this.options.logger.warn({ regrade: record.id, err: error }, "could not end a regrade's lease"));
      return;
    }
    // A refused renewal means the regrade is no longer this node's to run: a client cancelled it (from
    // any node), or this node stalled past its lease and another node claimed it. Either way the run stops.
    run.keeper = new LeaseKeeper({
      renew: (now, leaseMs) => this.options.store.renewRegradeLease(record.id, record.claim, now, leaseMs),
      fields: { regrade: record.id, claim: record.claim },
      lostMessage: "regrade no longer held here (cancelled, finished, or claimed by another node): stopping it",
      lostLevel: "info",
      onLost: () => { run.cancelled = true; },
    }, this.leaseMs(), this.options.logger);
    run.finished = this.run(record, gradable, run)
      .catch(async (error: unknown) => {
        if (error instanceof Stopped || this.stopped) {
          this.options.logger.info({ regrade: record.id }, "regrade paused by the shutdown; it resumes after the next start");
          return;
        }
        this.options.logger.error({ regrade: record.id, err: error }, "regrade failed");
        const done = (await this.options.store.getRegrade(record.id))?.done ?? 0;
        if (await this.options.store.finishRegrade(record.id, "failed", Date.now(), `the service could not go on (${(error as Error).message}); ${done} of ${record.total} were done`, run.claim)) {
          this.emit({ type: "ended", dryRun: record.dryRun, status: "failed" });
        }
      })
      .catch((error: unknown) => this.options.logger.error({ regrade: record.id, err: error }, "regrade's failure could not be recorded"))
      .finally(() => {
        run.keeper?.stop();
        if (this.runs.get(record.id) === run) this.runs.delete(record.id);
      });
    this.runs.set(record.id, run);
  }

  private async run(record: RegradeRecord, gradable: GradablePack, run: Run): Promise<void> {
    const pending = await this.options.store.pendingRegradeItems(record.id);
    let next = 0;
    run.waiting = pending.length;
    // A few lanes, each asking the queue for an idle worker for its next submission.
    const lane = async () => {
      while (!run.cancelled && !this.stopped) {
        const id = pending[next++];
        if (id === undefined) return;
        await this.options.queue.whenIdle(async () => {
          run.waiting--;
          this.inFlight++;
          try {
            await this.regradeOne(record, gradable, id, run);
          } finally {
            this.inFlight--;
          }
        }, () => this.concurrency())
          .catch((error: unknown) => {
            throw this.stopped || (error instanceof Error && "code" in error && error.code === "shutting_down") ? new Stopped() : error;
          });
      }
    };
    // As many lanes as the most workers it may ever take; the queue holds them to concurrency() at each start.
    const lanes = this.options.config.regradeWorkers > 0 ? this.concurrency() : Math.max(1, Math.min(this.options.config.workers - 1, availableParallelism()));
    await Promise.all(Array.from({ length: lanes }, lane));
    if (run.cancelled) return;
    if (this.stopped) throw new Stopped();
    if (await this.options.store.finishRegrade(record.id, "done", Date.now(), null, run.claim)) {
      this.emit({ type: "ended", dryRun: record.dryRun, status: "done" });
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
      await this.record(record, id, { outcome: "errored", change: null }, run);
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
      await this.record(record, id, { outcome: "errored", change: null }, run);
      return;
    }
    // The packs that name the tests' cases: the one graded against, the live one (most stored gradings'), and the one it replaced.
    const live = this.options.packs.get(record.assignment);
    const previous = this.options.packs.previous(record.assignment);
    const known = [gradable, live, previous].flatMap((g) => (g === undefined ? [] : [g.pack]));
    const result = compareGradings(submission, before, after, [...known, ...run.packs]);
    if (record.dryRun) {
      await this.record(record, id, result, run);
      return;
    }
    const notify = scoreMoved(before, after) && submission.callbackUrl !== null && config.webhookSecret !== "";
    const applied = await store.applyRegradeItem(record.id, id, after, result, Date.now(), notify ? randomUUID() : null, run.claim);
    if (applied !== undefined) this.emit({ type: "item", dryRun: false, outcome: result.outcome });
    if (applied?.webhook?.state === "pending" && notify) this.options.onWebhookPending?.();
  }

  /** Records an item under the run's claim; a refusal means the regrade is no longer this node's to run (cancelled or claimed elsewhere): it stops. */
  private async record(record: RegradeRecord, id: string, result: RegradeItemResult, run: Run): Promise<void> {
    if (await this.options.store.recordRegradeItem(record.id, id, result, run.claim)) this.emit({ type: "item", dryRun: record.dryRun, outcome: result.outcome });
    else run.cancelled = true;
  }
}
