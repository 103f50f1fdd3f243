import fp from "fastify-plugin";
import type { Config } from "../config.js";
import { Registry } from "../graders/registry.js";

declare module "fastify" {
  interface FastifyInstance {
    graders: Registry;
  }
}

/** Loads and self-tests every pack under GRADERS_DIR before the app answers anything. */
export default fp<{ config: Config }>(async (fastify, { config }) => {
  const registry = new Registry(config.gradersDir, config.limits, {
    pool: fastify.sandbox,
    resultMaxDepth: config.resultMaxDepth,
    concurrency: config.workers,
  }, fastify.log.child({ component: "graders" }));
  await registry.loadAll();
  fastify.decorate("graders", registry);
}, { name: "graders", dependencies: ["sandbox"] });
