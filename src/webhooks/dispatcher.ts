import { Webhook } from "standardwebhooks";
import type { Log } from "../logger.js";
import type { SubmissionRecord, SubmissionStore, WebhookStateName } from "../store/store.js";
import { regradedPayload, webhookPayload, type HintedExercises } from "../submissions/views.js";
import { deliver } from "./deliver.js";

export interface WebhookOptions {
  store: SubmissionStore;
  /** The exercises of an assignment, for the hints its formats show (the current pack's). */
  exercisesOf?: (assignment: string) => HintedExercises;
  /** Called after each delivery attempt with how it ended (metrics). */
  onAttempt?: (outcome: "delivered" | "failed" | "abandoned") => void;
  /** `whsec_<base64>` (Standard Webhooks). */
  secret: string;
  timeoutMs: number;
  /** Delays before each retry; the last repeats. */
  retryMs: readonly number[];
  /** Retries stop this long after the first attempt. */
  retryHours: number;
  /** Deliveries in flight at once. */
  concurrency: number;
  logger: Log;
}

/** The longest the dispatcher sleeps without looking at the store (a webhook another process queued, a clock jump). */
const MAX_SLEEP_MS = 60_000;
/**
 * A claimed delivery is held from other nodes this long past the receiver's timeout (signing, recording
 * the attempt). A node that dies while sending leaves it due again after that: at least once.
 */
const HOLD_MARGIN_MS = 5_000;
/** How soon the dispatcher looks again after the store failed to answer. */
const STORE_RETRY_MS = 2_000;
/** ± this fraction of a delay, so that receivers that failed together are not retried together. */
const JITTER = 0.2;

/** The next attempt after `attempts` failed ones: the schedule's delay with jitter, or null past the retry period. */
export function nextAttempt(options: Pick<WebhookOptions, "retryMs" | "retryHours">, attempts: number, firstAt: number, now: number, random: () => number = Math.random): number | null {
  const base = options.retryMs[Math.min(attempts - 1, options.retryMs.length - 1)] ?? 0;
  const next = now + Math.round(base * (1 - JITTER + 2 * JITTER * random()));
  return next - firstAt > options.retryHours * 3_600_000 ? null : next;
}

/**
 * Delivers the `submission.completed` and `submission.regraded` webhooks recorded in the store, signed per Standard Webhooks,
 * and retries failures on a schedule. All of its state is in the store (attempts, last status, the
 * next attempt's time), so a restart resumes where the last process stopped; a delivery cut off by
 * a crash is sent again (at least once, with the same webhook-id, so receivers can deduplicate).
 * Every node that shares the store runs one: each hears of every finished submission through the
 * store's events, and a node claims (holds) a due delivery before sending it, so two nodes do not
 * normally send the same one at the same moment.
 */
export class WebhookDispatcher {
  private readonly signer: Webhook;
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private again = false;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: WebhookOptions) {
    this.signer = new Webhook(options.secret);
    // A submission finished on any node may have a webhook to send; after a lost connection, look again.
    this.unsubscribe = options.store.subscribe((event) => {
      if (event.kind === "finished" || event.kind === "resync") this.notify();
    });
  }

  /** Looks for due deliveries now (a submission just finished, or the service started). */
  notify(): void {
    void this.tick();
  }

  /**
   * Stops scheduling. Deliveries in flight are not awaited (a receiver may take WEBHOOK_TIMEOUT_MS):
   * one whose result is not recorded stays pending and is sent again after the next start.
   */
  close(): void {
    this.closed = true;
    this.unsubscribe();
    clearTimeout(this.timer);
  }

  /** The drain's step 4: retries pause (nothing new is sent); pending deliveries stay in the store for the next start. */
  pause(): void {
    this.close();
  }

  /** Signed headers for one attempt; exported through the class for the tests' receivers. */
  sign(eventId: string, body: string, at = new Date()): Record<string, string> {
    return {
      "webhook-id": eventId,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": this.signer.sign(eventId, at, body),
    };
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    try {
      do {
        this.again = false;
        const room = this.options.concurrency - this.inFlight.size;
        if (room <= 0) break;
        const due = await this.options.store.claimWebhooks(Date.now(), room, this.options.timeoutMs + HOLD_MARGIN_MS);
        for (const record of due.filter((r) => !this.inFlight.has(r.id))) this.launch(record);
      } while (this.again && !this.closed);
      await this.schedule();
    } catch (error) {
      this.options.logger.error({ err: error }, "webhook dispatcher could not read the store");
      // The database may be restarting: look again soon rather than wait for an event.
      clearTimeout(this.timer);
      if (!this.closed) {
        this.timer = setTimeout(() => void this.tick(), STORE_RETRY_MS);
        this.timer.unref();
      }
    } finally {
      this.ticking = false;
    }
  }

  private async schedule(): Promise<void> {
    clearTimeout(this.timer);
    if (this.closed) return;
    const at = await this.options.store.nextWebhookAt();
    if (at === null) return;
    const delay = at - Date.now();
    // Due ones still pending are in flight: their completion looks again.
    if (delay <= 0 && this.inFlight.size > 0) return;
    this.timer = setTimeout(() => void this.tick(), Math.min(Math.max(0, delay), MAX_SLEEP_MS));
    this.timer.unref();
  }

  private launch(record: SubmissionRecord): void {
    const work = this.attempt(record).catch((error: unknown) => {
      if (this.closed) this.options.logger.debug({ submission: record.id, err: error }, "webhook attempt cut off by the shutdown");
      else this.options.logger.error({ submission: record.id, err: error }, "webhook attempt could not be recorded");
    }).finally(() => {
      this.inFlight.delete(record.id);
      void this.tick();
    });
    this.inFlight.set(record.id, work);
  }

  /** The event's body: a first grading's result, or a regrade's old and new score (from the history). */
  private async payload(record: SubmissionRecord): Promise<string> {
    const exercises = this.options.exercisesOf?.(record.assignment);
    if (record.webhook?.event === "submission.regraded") {
      const gradings = await this.options.store.gradings(record.id);
      const latest = gradings.at(-1);
      const previous = gradings.at(-2);
      if (latest !== undefined && previous !== undefined) return regradedPayload(record, previous, latest, exercises);
    }
    return webhookPayload(record, exercises);
  }

  private async attempt(record: SubmissionRecord): Promise<void> {
    const webhook = record.webhook;
    if (webhook === null || record.callbackUrl === null) return;
    const body = await this.payload(record);
    const result = await deliver(record.callbackUrl, this.sign(webhook.eventId, body), body, this.options.timeoutMs);
    const now = Date.now();
    const attempts = webhook.attempts + 1;
    let state: WebhookStateName = "pending";
    let nextAttemptAt: number | null = null;
    if (result.status !== null && result.status >= 200 && result.status < 300) {
      state = "delivered";
    } else if (result.status === 410) {
      // 410 Gone: the receiver says this endpoint is no more (Standard Webhooks' convention).
      state = "gave_up";
    } else {
      nextAttemptAt = nextAttempt(this.options, attempts, webhook.firstAttemptAt ?? now, now);
      if (nextAttemptAt === null) state = "gave_up";
    }
    await this.options.store.recordWebhookAttempt(record.id, { at: now, status: result.status, error: result.error, state, nextAttemptAt });
    this.options.onAttempt?.(state === "delivered" ? "delivered" : state === "gave_up" ? "abandoned" : "failed");
    const fields = { submission: record.id, webhookId: webhook.eventId, attempt: attempts, status: result.status, error: result.error ?? undefined, state };
    if (state === "delivered") this.options.logger.info(fields, "webhook delivered");
    else this.options.logger.warn({ ...fields, nextAttemptAt: nextAttemptAt === null ? undefined : new Date(nextAttemptAt).toISOString() }, "webhook not delivered");
  }
}
