import fp from "fastify-plugin";
import type { Config } from "../config.js";
import { ApiError, apiError } from "../errors.js";
import { poolOptions, PoolError, SandboxPool } from "../sandbox/pool.js";

declare module "fastify" {
  interface FastifyInstance {
    sandbox: SandboxPool;
  }
}

/** Starts the grading workers and stops them when the app closes. */
export default fp<{ config: Config }>(async (fastify, { config }) => {
  const metrics = fastify.metrics;
  // An api-only node grades no submission, but a pack is proven by its self-test before this node
  // accepts work for it (at start, and on install): one worker does that.
  const size = config.role === "api" ? { ...config, workers: 1 } : config;
  const pool = new SandboxPool({ ...poolOptions(size, fastify.log.child({ component: "sandbox" })), onEvent: (event) => metrics.onPoolEvent(event) });
  fastify.decorate("sandbox", pool);
  fastify.addHook("onClose", async () => pool.close());
  try {
    await pool.ready();
  } catch (error) {
    await pool.close();
    throw error;
  }
}, { name: "sandbox", dependencies: ["metrics"] });

/** The sandbox pool's refusals, as API errors (anything else is passed through unchanged). */
export function poolErrorToApi(error: unknown): unknown {
  if (!(error instanceof PoolError)) return error;
  if (error.code === "queue_full") return new ApiError("queue_full", [error.retryAfterS], { headers: { "retry-after": String(error.retryAfterS) } });
  if (error.code === "closed") return apiError("shutting_down");
  return apiError("sandbox_unavailable", error.message);
}
