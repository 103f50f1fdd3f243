import fp from "fastify-plugin";
import type { Config } from "../config.js";
import { RegradeRunner } from "../regrades/runner.js";

declare module "fastify" {
  interface FastifyInstance {
    regrades: RegradeRunner;
  }
}

/**
 * Regrades (issue #16) run through the grading queue's idle lane. At start (after the queue has
 * resumed live work) the regrades a stop cut off resume, and every third of LEASE_S those whose holder
 * died; a drain or a close stops starting gradings and ends this node's leases, leaving its regrades
 * running in the store for another node or the next start.
 */
export default fp<{ config: Config }>(async (fastify, { config }) => {
  const runner = new RegradeRunner({
    store: fastify.store,
    queue: fastify.grading,
    packs: fastify.packs,
    pool: fastify.sandbox,
    typescript: fastify.typescript,
    config,
    logger: fastify.log.child({ component: "regrades" }),
    onWebhookPending: () => fastify.webhooks?.notify(),
    onEvent: (event) => fastify.metrics.onRegradeEvent(event),
  });
  fastify.metrics.bindRegrades(runner);
  fastify.decorate("regrades", runner);
  fastify.drain.onDrain("regrades", () => runner.stop());
  fastify.addHook("onReady", async () => {
    const { resumed, failed } = await runner.start();
    if (resumed + failed > 0) fastify.log.info({ resumed, failed }, "regrades left running by the last stop");
  });
  fastify.addHook("onClose", async () => runner.stop());
}, { name: "regrades", dependencies: ["store", "packs", "sandbox", "typescript", "drain", "metrics"] });
