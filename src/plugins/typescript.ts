import fp from "fastify-plugin";
import type { Config } from "../config.js";
import { StripPool } from "../grading/strip-pool.js";

declare module "fastify" {
  interface FastifyInstance {
    typescript: StripPool;
  }
}

/**
 * Starts the TypeScript stripping threads and stops them when the app closes. The threads load the
 * compiler in the background: the start does not wait for it, and neither does the event loop.
 */
export default fp<{ config: Config }>(async (fastify, { config }) => {
  const pool = new StripPool({ ...config.typescript, log: fastify.log.child({ component: "typescript" }) });
  fastify.decorate("typescript", pool);
  fastify.addHook("onClose", async () => pool.close());
}, { name: "typescript" });
