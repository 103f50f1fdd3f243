import fp from "fastify-plugin";
import type { Config } from "../config.js";
import { openStore } from "../store/index.js";
import type { SubmissionStore } from "../store/store.js";
import { GradingQueue } from "../submissions/queue.js";
import { WebhookDispatcher } from "../webhooks/dispatcher.js";

declare module "fastify" {
  interface FastifyInstance {
    store: SubmissionStore;
    grading: GradingQueue;
    /** The webhook dispatcher (undefined without WEBHOOK_SECRET): regrades wake it. */
    webhooks: WebhookDispatcher | undefined;
  }
}

/** Deliveries in flight at once: receivers are slow far more often than they are many. */
const WEBHOOK_CONCURRENCY = 16;
/** How often old sources are blanked when SOURCE_RETENTION_DAYS is set. */
const RETENTION_SWEEP_MS = 3_600_000;

/**
 * Opens the store (applying its migrations), then the grading queue and the webhook dispatcher,
 * which resume whatever the last process left unfinished. Closes them in the reverse order.
 */
export default fp<{ config: Config }>(async (fastify, { config }) => {
  const store = openStore(config);
  const logger = fastify.log.child({ component: "submissions" });
  const webhooks = config.webhookSecret === "" ? undefined : new WebhookDispatcher({
    store,
    exercisesOf: (assignment) => fastify.packs.get(assignment)?.pack.assignment.exercises ?? [],
    secret: config.webhookSecret,
    timeoutMs: config.webhookTimeoutMs,
    retryMs: config.webhookRetryMs,
    retryHours: config.webhookRetryHours,
    concurrency: WEBHOOK_CONCURRENCY,
    logger: fastify.log.child({ component: "webhooks" }),
    onAttempt: (outcome) => fastify.metrics.webhookDeliveries.inc({ outcome }),
  });
  const queue = new GradingQueue({
    store,
    pool: fastify.sandbox,
    typescript: fastify.typescript,
    packs: fastify.packs,
    config,
    logger,
    ...(webhooks !== undefined ? { onWebhookPending: () => webhooks.notify() } : {}),
    onGraded: (feedback) => fastify.metrics.observeFeedback(feedback),
    onUngraded: (assignment) => fastify.metrics.observeFailure(assignment),
  });
  fastify.decorate("store", store);
  fastify.decorate("grading", queue);
  fastify.decorate("webhooks", webhooks);
  // Drain (issue #14), steps 3 and 4: async work not yet started stays queued; webhook retries pause.
  fastify.drain.onDrain("async queue", () => queue.stopBackground());
  if (webhooks !== undefined) fastify.drain.onDrain("webhook retries", () => webhooks.pause());

  let sweep: NodeJS.Timeout | undefined;
  const blankOldSources = async () => {
    const blanked = await store.blankSources(Date.now() - config.sourceRetentionDays * 86_400_000);
    if (blanked > 0) logger.info({ blanked, retentionDays: config.sourceRetentionDays }, "blanked old sources");
  };
  if (config.sourceRetentionDays > 0) {
    await blankOldSources();
    sweep = setInterval(() => void blankOldSources().catch((err: unknown) => logger.error({ err }, "retention sweep failed")), RETENTION_SWEEP_MS);
    sweep.unref();
  }

  fastify.addHook("onReady", async () => {
    await queue.start();
    webhooks?.notify();
  });
  fastify.addHook("onClose", async () => {
    clearInterval(sweep);
    queue.close();
    webhooks?.close();
    await store.close();
  });
}, { name: "store", dependencies: ["sandbox", "typescript", "packs", "metrics", "drain"] });
