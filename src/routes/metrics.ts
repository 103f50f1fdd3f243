import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { hasScope, tokenMatches } from "../auth/keys.js";
import type { Config } from "../config.js";
import { ApiError, apiError } from "../errors.js";
import { authenticate, bearerToken } from "../plugins/auth.js";

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Prometheus scrapes from the machine itself are open; from elsewhere they need METRICS_TOKEN or an admin key. */
async function mayScrape(request: FastifyRequest, config: Config): Promise<void> {
  if (LOOPBACK.test(request.socket.remoteAddress ?? "")) return;
  const secret = bearerToken(request.headers.authorization);
  if (secret !== undefined && config.metricsToken !== "" && tokenMatches(secret, config.metricsToken)) return;
  const client = await authenticate(request, request.server.keys, config.adminToken);
  if (client === null) throw new ApiError("unauthorized", ["metrics are open only on loopback; send METRICS_TOKEN or an admin key"]);
  if (client === "unknown") throw new ApiError("unauthorized", ["the bearer token is neither METRICS_TOKEN nor a valid key"]);
  if (!hasScope(client, "admin")) throw apiError("forbidden", "admin");
}

/** GET /metrics: the Prometheus text format (prom-client), the process's default metrics and gradebox_*. */
const metrics: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  const pool = fastify.sandbox;
  fastify.metrics.bind({
    syncQueueDepth: () => fastify.grading.stats().syncWaiting + pool.stats().queued,
    asyncQueueDepth: () => fastify.grading.stats().background,
    workerStates: () => pool.workerStates(),
  });
  fastify.get("/metrics", {
    schema: { tags: ["health"], summary: "Prometheus metrics (open on loopback; otherwise METRICS_TOKEN or an admin key)" },
    onRequest: async (request) => mayScrape(request, config),
  }, async (_request, reply) => {
    const text = await fastify.metrics.registry.metrics();
    return reply.type(fastify.metrics.registry.contentType).send(text);
  });
};

export default metrics;
