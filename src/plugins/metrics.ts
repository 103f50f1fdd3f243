import fp from "fastify-plugin";
import { createMetrics, type Metrics, type MetricSources } from "../metrics/metrics.js";

declare module "fastify" {
  interface FastifyInstance {
    metrics: Metrics & { bind(sources: MetricSources): void };
  }
}

/**
 * The metrics registry, created before the sandbox (which reports to it), and the count of every
 * HTTP answer by route pattern: `PUT /v1/assignments/:id`, never the raw URL, so ids and query strings
 * cannot grow the series without bound. A request no route matched counts as `unmatched`.
 */
export default fp(async (fastify) => {
  const metrics = createMetrics();
  fastify.decorate("metrics", metrics);
  fastify.addHook("onResponse", async (request, reply) => {
    const pattern = request.routeOptions.url;
    const route = pattern === undefined || request.is404 ? "unmatched" : `${request.method} ${pattern}`;
    metrics.httpRequests.inc({ route, status: String(reply.statusCode) });
  });
}, { name: "metrics" });
