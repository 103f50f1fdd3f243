import Fastify, { type FastifyInstance } from "fastify";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { app, serverOptions } from "../../src/app.js";
import { loadConfig, type Config } from "../../src/config.js";

/** The repository root (compiled tests live in dist/test). */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * Limits small enough that a hostile submission costs a test well under a second. The hazard tests that use
 * them test the wall-clock limits and the watchdog, which stay the outer guard under budgets; so they run
 * without budgets learnt from the reference (test/sandbox/budgets.test.ts tests those).
 */
export const fastLimits = {
  BUDGETS: "off",
  CALL_TIMEOUT_MS: "400",
  EVAL_TIMEOUT_MS: "400",
  SUBMISSION_WALL_MS: "4000",
  KILL_GRACE_MS: "300",
};

/** A fresh DATA_DIR, so each app has its own database (keys made by one test do not close another's service). */
export function tempDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), "gradebox-data-"));
}

export function testConfig(env: Record<string, string> = {}): Config {
  // One TypeScript thread: every test app loads the compiler in it, and most never strip a type.
  return loadConfig({ LOG_LEVEL: "silent", WORKERS: "2", TYPESCRIPT_THREADS: "1", DATA_DIR: tempDataDir(), ...env });
}

/** Builds the same app as server.ts (without listening); close it with `app.close()`. */
export async function buildApp(env: Record<string, string> = {}, options: { logStream?: NodeJS.WritableStream } = {}): Promise<FastifyInstance> {
  // Each app gets its own SQLite database, removed when it closes, unless the test names a DATA_DIR.
  const dataDir = env.DATA_DIR === undefined ? mkdtempSync(path.join(tmpdir(), "gradebox-data-")) : undefined;
  const config = testConfig(dataDir === undefined ? env : { ...env, DATA_DIR: dataDir });
  const server = options.logStream === undefined
    ? Fastify(serverOptions(config))
    : Fastify({ ...serverOptions(config), logger: { ...(serverOptions(config).logger as object), level: "info", stream: options.logStream } });
  await server.register(app, { config });
  if (dataDir !== undefined) server.addHook("onClose", async () => rmSync(dataDir, { recursive: true, force: true }));
  await server.ready();
  return server;
}
