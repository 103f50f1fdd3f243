import type { FastifyPluginAsync } from "fastify";

const healthSchema = {
  type: "object",
  required: ["status", "assignments", "workers"],
  properties: {
    status: { enum: ["ok", "degraded"], description: "ok while at least one worker can grade and the store answers." },
    store: {
      type: "object",
      description: "The submission store: its engine, and while it cannot be reached (a PostgreSQL restart or outage), why.",
      properties: {
        engine: { enum: ["sqlite", "postgres"] },
        ok: { type: "boolean" },
        reason: { type: "string" },
      },
    },
    assignments: {
      type: "array",
      items: { type: "object", properties: { id: { type: "string" }, assignmentVersion: { type: "string" } } },
    },
    workers: {
      type: "object",
      properties: {
        workers: { type: "integer" },
        ready: { type: "integer" },
        busy: { type: "integer" },
        queued: { type: "integer" },
        healthy: { type: "boolean" },
      },
    },
    confinement: {
      type: "object",
      description: "The OS confinement (second wall) around every grading worker: see the README's Security model.",
      properties: {
        mode: { enum: ["required", "off"] },
        inForce: { enum: ["bubblewrap+seccomp", "none"] },
        namespaces: { type: "array", items: { type: "string" } },
        seccomp: { type: "boolean" },
        execve: { enum: ["denied", "allowed"], description: "Whether workers can call execve: denied by a second seccomp filter each worker installs at start (native/no-exec.c)." },
        execveReason: { type: "string", description: "What denies execve, or why it is allowed." },
        rlimits: {
          type: ["object", "null"],
          properties: { processes: { type: "integer" }, fileSizeBytes: { type: "integer" }, core: { type: "integer" } },
        },
        cgroup: { type: "string" },
        warning: { type: "string" },
        jit: { type: "boolean", description: "Whether workers run with V8's JIT (WORKER_JIT)." },
      },
    },
  },
};

/** Liveness and readiness in one: 200 while at least one worker can grade, 503 otherwise. */
const health: FastifyPluginAsync = async (fastify) => {
  fastify.get("/health", {
    schema: { tags: ["health"], summary: "Whether the service can grade (503 while no grading worker is ready or the store cannot be reached)", response: { 200: healthSchema, 503: healthSchema } },
  }, async (_request, reply) => {
    const pool = fastify.sandbox.stats();
    // Sync submissions wait for a worker in the grading queue (the pool gets one job per free worker).
    const workers = { ...pool, queued: pool.queued + fastify.grading.stats().syncWaiting };
    const storeDown = fastify.store.unavailable?.() ?? null;
    const healthy = workers.healthy && storeDown === null;
    const body = {
      status: healthy ? "ok" : "degraded",
      store: { engine: fastify.store.unavailable === undefined ? "sqlite" : "postgres", ok: storeDown === null, ...(storeDown === null ? {} : { reason: storeDown }) },
      assignments: fastify.packs.list().map((g) => ({ id: g.pack.id, assignmentVersion: g.pack.hash })),
      workers,
      confinement: { ...fastify.sandbox.confinementState(), jit: fastify.sandbox.jitEnabled() },
    };
    return reply.code(healthy ? 200 : 503).send(body);
  });
};

export default health;
