import type { FastifyPluginAsync } from "fastify";

const checkSchema = { type: "object", properties: { ok: { type: "boolean" }, reason: { type: "string" } } };
const readySchema = {
  type: "object",
  required: ["status", "checks"],
  properties: {
    status: { enum: ["ready", "not_ready"] },
    checks: { type: "object", additionalProperties: checkSchema, description: "Each probe (drain, packs, workers, store…) with the reason it is not ready." },
  },
};

/**
 * Probes for load balancers and Kubernetes: /health/live answers while the process does (restart it
 * if not); /health/ready answers 200 only when it should get traffic (503 with the reasons otherwise).
 */
const probes: FastifyPluginAsync = async (fastify) => {
  fastify.get("/health/live", {
    schema: { tags: ["health"], summary: "Liveness: the process answers", response: { 200: { type: "object", properties: { status: { const: "live" } } } } },
  }, async () => ({ status: "live" }));

  fastify.get("/health/ready", {
    schema: { tags: ["health"], summary: "Readiness: packs loaded and self-tested, a worker ready, the store answering, not draining (503 with reasons otherwise)", response: { 200: readySchema, 503: readySchema } },
  }, async (_request, reply) => {
    const { ready, checks } = await fastify.readiness.check();
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready", checks });
  });
};

export default probes;
