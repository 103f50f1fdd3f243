import rateLimit from "@fastify/rate-limit";
import fp from "fastify-plugin";
import type { Config } from "../config.js";
import { ApiError } from "../errors.js";
import { isV1Path } from "../auth/scopes.js";

const WINDOW_MS = 60_000;

/**
 * Per-client rate limits on /v1 routes (@fastify/rate-limit, in memory: one process serves them).
 * A key's own `rateLimitPerMin` wins over RATE_LIMIT_PER_MIN; while the service is open, the client
 * is the remote address. Health and metrics are never limited: a load balancer probing must not be refused.
 * Registered after the auth plugin, whose hook runs first and sets `request.client`.
 */
export default fp<{ config: Config }>(async (fastify, { config }) => {
  await fastify.register(rateLimit, {
    global: true,
    timeWindow: WINDOW_MS,
    max: (request) => request.client?.rateLimitPerMin ?? config.rateLimitPerMin,
    keyGenerator: (request) => (request.client === null ? `address:${request.ip}` : `key:${request.client.id}`),
    allowList: (request) => !isV1Path(request.url),
    // The IETF draft's RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset headers, plus Retry-After.
    enableDraftSpec: true,
    errorResponseBuilder: (request, context) => {
      const retryAfterS = Math.max(1, Math.ceil(context.ttl / 1000));
      return new ApiError("rate_limited", [context.max, retryAfterS], { headers: { "retry-after": String(retryAfterS) } });
    },
  });
}, { name: "rate-limit", dependencies: ["auth"] });
