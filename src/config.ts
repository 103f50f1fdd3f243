import { availableParallelism } from "node:os";
import path from "node:path";
import { Ajv } from "ajv";
import { packageRoot } from "./paths.js";

/**
 * Every setting of the service, read from the environment through this one schema.
 * The README's configuration table is generated from it (`npm run docs:config`) and a test
 * checks that the two agree, so a new limit cannot go undocumented.
 */
export const settings = {
  PORT: { type: "integer", default: 3000, minimum: 0, maximum: 65535, unit: "", description: "TCP port the HTTP server listens on." },
  HOST: { type: "string", default: "127.0.0.1", unit: "", description: "Address to bind. Use 0.0.0.0 in a container." },
  LOG_LEVEL: { type: "string", default: "info", enum: ["fatal", "error", "warn", "info", "debug", "trace", "silent"], unit: "", description: "pino log level." },
  GRADERS_DIR: { type: "string", default: "graders", unit: "", description: "Folder of assignment packs, relative to the project root unless absolute. Installed packs are written here." },
  ADMIN_TOKEN: { type: "string", default: "", unit: "", description: "Bearer token for `PUT /v1/assignments/:id`. Empty turns the route off." },
  WORKERS: { type: "integer", default: 0, minimum: 0, maximum: 64, unit: "processes", description: "Grading worker processes; 0 means two per CPU core." },
  CONFINEMENT: { type: "string", default: "required", enum: ["required", "off"], unit: "", description: "The second wall around grading workers (bubblewrap namespaces + seccomp + rlimits). `required` refuses to start without it; `off` runs workers unconfined, with a warning." },
  WORKER_JIT: { type: "string", default: "off", enum: ["on", "off"], unit: "", description: "V8's JIT in grading workers. `off` runs them `--jitless` (no executable memory); `on` enables the JIT, WebAssembly still off. Under confinement the JIT measured no faster here (`npm run bench:jit`), so it stays off." },
  WORKER_MAX_GRADINGS: { type: "integer", default: 500, minimum: 1, maximum: 100000, unit: "gradings", description: "A worker is replaced after this many gradings (a fork costs about 185 ms of CPU; every grading gets a fresh isolate regardless)." },
  WORKER_RSS_MB: { type: "integer", default: 512, minimum: 64, maximum: 16384, unit: "MB", description: "A worker whose resident memory exceeds this is killed; its submission gets a memory verdict." },
  WORKER_SPAWN_TIMEOUT_MS: { type: "integer", default: 20000, minimum: 1000, maximum: 120000, unit: "ms", description: "How long a new worker may take to become ready." },
  ISOLATE_MEMORY_MB: { type: "integer", default: 64, minimum: 8, maximum: 4096, unit: "MB", description: "V8 heap limit of the isolate that runs a submission." },
  CALL_TIMEOUT_MS: { type: "integer", default: 1000, minimum: 10, maximum: 60000, unit: "ms", description: "Time one call of a graded function may run (including its promise settling)." },
  EVAL_TIMEOUT_MS: { type: "integer", default: 1000, minimum: 10, maximum: 60000, unit: "ms", description: "Time the submission's top-level module code may run." },
  SUBMISSION_WALL_MS: { type: "integer", default: 5000, minimum: 100, maximum: 600000, unit: "ms", description: "Wall-clock budget for grading one submission, all tests included." },
  KILL_GRACE_MS: { type: "integer", default: 500, minimum: 50, maximum: 10000, unit: "ms", description: "Extra time past a limit before the worker disposes the isolate, or the service kills the worker." },
  OUTPUT_KIB: { type: "integer", default: 64, minimum: 1, maximum: 4096, unit: "KiB", description: "Console output kept per submission; the rest is dropped and counted." },
  RESULT_KIB: { type: "integer", default: 64, minimum: 1, maximum: 4096, unit: "KiB", description: "Largest value a graded function may return (as JSON)." },
  RESULT_MAX_DEPTH: { type: "integer", default: 32, minimum: 2, maximum: 256, unit: "levels", description: "Deepest nesting of arrays/objects in a returned value." },
  SOURCE_KIB: { type: "integer", default: 256, minimum: 1, maximum: 10240, unit: "KiB", description: "Largest submission source (UTF-8)." },
  REQUEST_KIB: { type: "integer", default: 2048, minimum: 16, maximum: 65536, unit: "KiB", description: "Largest HTTP request body for submissions." },
  PACK_KIB: { type: "integer", default: 4096, minimum: 16, maximum: 65536, unit: "KiB", description: "Largest pack upload (`PUT /v1/assignments/:id`) body." },
  QUEUE_LENGTH: { type: "integer", default: 64, minimum: 0, maximum: 100000, unit: "submissions", description: "Submissions that may wait for a worker; beyond it the service answers 503 with Retry-After." },
  IDEMPOTENCY_ENTRIES: { type: "integer", default: 1000, minimum: 0, maximum: 1000000, unit: "entries", description: "Feedbacks remembered by Idempotency-Key or submissionId (least recently used are forgotten)." },
  IDEMPOTENCY_WINDOW_S: { type: "integer", default: 86400, minimum: 1, maximum: 31536000, unit: "s", description: "How long a feedback is replayed for a repeated Idempotency-Key or submissionId; after it, the key grades anew." },
} as const;

type SettingName = keyof typeof settings;

const envSchema = {
  type: "object",
  properties: Object.fromEntries(
    Object.entries(settings).map(([name, { unit: _unit, description, ...rest }]) => [name, { ...rest, description }]),
  ),
  additionalProperties: true,
};

export interface Limits {
  callTimeoutMs: number;
  evalTimeoutMs: number;
  submissionWallMs: number;
  isolateMemoryMb: number;
  outputKiB: number;
  resultKiB: number;
}

export const limitNames = ["callTimeoutMs", "evalTimeoutMs", "submissionWallMs", "isolateMemoryMb", "outputKiB", "resultKiB"] as const;

export interface Config {
  port: number;
  host: string;
  logLevel: string;
  gradersDir: string;
  adminToken: string;
  workers: number;
  confinement: "required" | "off";
  workerJit: "on" | "off";
  workerMaxGradings: number;
  workerRssMb: number;
  workerSpawnTimeoutMs: number;
  killGraceMs: number;
  resultMaxDepth: number;
  sourceKiB: number;
  requestKiB: number;
  packKiB: number;
  queueLength: number;
  idempotencyEntries: number;
  idempotencyWindowS: number;
  /** The service's ceiling for every per-submission limit; packs and requests may only lower them. */
  limits: Limits;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads the configuration from an environment-like object; throws ConfigError naming the bad variables. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: false });
  const validate = ajv.compile(envSchema);
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(settings)) {
    const value = env[name];
    if (value !== undefined && value !== "") raw[name] = value;
  }
  if (!validate(raw)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath.slice(1) || "environment"} ${e.message ?? "is invalid"}`);
    throw new ConfigError(`Invalid configuration: ${problems.join("; ")}`);
  }
  const v = raw as { [K in SettingName]: (typeof settings)[K]["default"] extends number ? number : string };
  const config: Config = {
    port: v.PORT,
    host: v.HOST,
    logLevel: v.LOG_LEVEL,
    gradersDir: path.resolve(packageRoot, v.GRADERS_DIR),
    adminToken: v.ADMIN_TOKEN,
    // Two per core: a worker held by an infinite loop for its whole limit then slows honest gradings
    // instead of queueing them (measured in bench/: honest p99 under a 10% hostile mix 1.56 → 1.05 s).
    workers: v.WORKERS === 0 ? Math.max(2, 2 * availableParallelism()) : v.WORKERS,
    confinement: v.CONFINEMENT as "required" | "off",
    workerJit: v.WORKER_JIT as "on" | "off",
    workerMaxGradings: v.WORKER_MAX_GRADINGS,
    workerRssMb: v.WORKER_RSS_MB,
    workerSpawnTimeoutMs: v.WORKER_SPAWN_TIMEOUT_MS,
    killGraceMs: v.KILL_GRACE_MS,
    resultMaxDepth: v.RESULT_MAX_DEPTH,
    sourceKiB: v.SOURCE_KIB,
    requestKiB: v.REQUEST_KIB,
    packKiB: v.PACK_KIB,
    queueLength: v.QUEUE_LENGTH,
    idempotencyEntries: v.IDEMPOTENCY_ENTRIES,
    idempotencyWindowS: v.IDEMPOTENCY_WINDOW_S,
    limits: {
      callTimeoutMs: v.CALL_TIMEOUT_MS,
      evalTimeoutMs: v.EVAL_TIMEOUT_MS,
      submissionWallMs: v.SUBMISSION_WALL_MS,
      isolateMemoryMb: v.ISOLATE_MEMORY_MB,
      outputKiB: v.OUTPUT_KIB,
      resultKiB: v.RESULT_KIB,
    },
  };
  if (config.requestKiB < config.sourceKiB) {
    throw new ConfigError("Invalid configuration: REQUEST_KIB must be at least SOURCE_KIB");
  }
  return config;
}
