import fp from "fastify-plugin";
import { ApiError } from "../errors.js";
import { Drain } from "../drain.js";

declare module "fastify" {
  interface FastifyInstance {
    drain: Drain;
  }
}

/** While draining, a client should go to another instance; this one will be gone within the grace period. */
export const DRAIN_RETRY_AFTER_S = 5;

const SYNC_GRADING = { method: "POST", url: "/v1/submissions" };

/**
 * Counts sync gradings in flight (a POST /v1/submissions from its first hook to its answer or its
 * abort) and, once the drain has started, refuses new ones with 503 shutting_down and Retry-After.
 * server.ts starts the drain on SIGTERM/SIGINT.
 */
export default fp<{ drain?: Drain }>(async (fastify, { drain = new Drain() }) => {
  fastify.decorate("drain", drain);
  const leave = Symbol("leave drain");
  fastify.addHook("onRequest", async (request) => {
    if (request.method !== SYNC_GRADING.method || request.routeOptions.url !== SYNC_GRADING.url) return;
    if (drain.draining) {
      throw new ApiError("shutting_down", [], { headers: { "retry-after": String(DRAIN_RETRY_AFTER_S) } });
    }
    (request as unknown as Record<symbol, () => void>)[leave] = drain.enter();
  });
  const done = async (request: object) => (request as Record<symbol, (() => void) | undefined>)[leave]?.();
  fastify.addHook("onResponse", done);
  fastify.addHook("onRequestAbort", done);
}, { name: "drain" });
