import fp from "fastify-plugin";

/** A readiness probe: resolves to null when its part of the service is ready, or to the reason it is not. */
export type Probe = () => string | null | Promise<string | null>;

export interface Readiness {
  /** Adds a check to GET /health/ready (the submission store and the async queue add theirs). */
  add(name: string, probe: Probe): void;
  /** Every check's verdict, in the order they were added; a probe that throws is not ready, with its message. */
  check(): Promise<{ ready: boolean; checks: Record<string, { ok: boolean; reason?: string }> }>;
}

declare module "fastify" {
  interface FastifyInstance {
    readiness: Readiness;
  }
}

/**
 * What "ready to take traffic" means, as named probes: not draining, the packs loaded and
 * self-tested, a grading worker ready, the store answering. Registered after the plugins it asks.
 */
export default fp(async (fastify) => {
  const probes = new Map<string, Probe>();
  const readiness: Readiness = {
    add(name, probe) {
      probes.set(name, probe);
    },
    async check() {
      const checks: Record<string, { ok: boolean; reason?: string }> = {};
      for (const [name, probe] of probes) {
        let reason: string | null;
        try {
          reason = await probe();
        } catch (error) {
          reason = error instanceof Error ? error.message : String(error);
        }
        checks[name] = reason === null ? { ok: true } : { ok: false, reason };
      }
      return { ready: Object.values(checks).every((c) => c.ok), checks };
    },
  };
  fastify.decorate("readiness", readiness);
  readiness.add("drain", () => (fastify.drain.draining ? "the service is shutting down" : null));
  // The graders plugin loads and self-tests every pack before the app starts, and a broken pack stops
  // the start, so once listening they are loaded; the probe names how many.
  readiness.add("packs", () => (fastify.packs.list().length > 0 ? null : "no pack is installed"));
  readiness.add("workers", () => (fastify.sandbox.stats().ready > 0 ? null : "no grading worker is ready"));
  readiness.add("store", async () => {
    await fastify.keys.ping();
    await fastify.store.countQueued();
    return null;
  });
}, { name: "readiness", dependencies: ["drain", "packs", "sandbox", "auth", "store"] });
