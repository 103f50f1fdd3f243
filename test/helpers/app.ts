import Fastify, { type FastifyInstance } from "fastify";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { app, serverOptions } from "../../src/app.js";
import { loadConfig, type Config } from "../../src/config.js";

/** The repository root (compiled tests live in dist/test). */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Limits small enough that a hostile submission costs a test well under a second. */
export const fastLimits = {
  CALL_TIMEOUT_MS: "400",
  EVAL_TIMEOUT_MS: "400",
  SUBMISSION_WALL_MS: "4000",
  KILL_GRACE_MS: "300",
};

export function testConfig(env: Record<string, string> = {}): Config {
  // One TypeScript thread: every test app loads the compiler in it, and most never strip a type.
  return loadConfig({ LOG_LEVEL: "silent", WORKERS: "2", TYPESCRIPT_THREADS: "1", ...env });
}

/** Builds the same app as server.ts (without listening); close it with `app.close()`. */
export async function buildApp(env: Record<string, string> = {}, options: { logStream?: NodeJS.WritableStream } = {}): Promise<FastifyInstance> {
  const config = testConfig(env);
  const server = options.logStream === undefined
    ? Fastify(serverOptions(config))
    : Fastify({ ...serverOptions(config), logger: { ...(serverOptions(config).logger as object), level: "info", stream: options.logStream } });
  await server.register(app, { config });
  await server.ready();
  return server;
}
