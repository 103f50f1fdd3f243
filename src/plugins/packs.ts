import fp from "fastify-plugin";
import type { Config } from "../config.js";
import { Registry } from "../packs/registry.js";

declare module "fastify" {
  interface FastifyInstance {
    packs: Registry;
  }
}

/** Loads and self-tests every pack under GRADERS_DIR before the app answers anything. */
export default fp<{ config: Config }>(async (fastify, { config }) => {
  const registry = new Registry(config.gradersDir, config.limits, {
    pool: fastify.sandbox,
    resultMaxDepth: config.resultMaxDepth,
    concurrency: config.workers,
    budget: config.budget,
  }, fastify.log.child({ component: "packs" }));
  await registry.loadAll();
  fastify.decorate("packs", registry);
}, { name: "packs", dependencies: ["sandbox"] });
