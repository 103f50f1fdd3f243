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
  ADMIN_TOKEN: { type: "string", default: "", unit: "", description: "Bootstrap admin key: a bearer token with the `admin` scope (installing packs, metrics), kept outside the key store. Empty: only admin API keys can install packs." },
  WORKERS: { type: "integer", default: 0, minimum: 0, maximum: 64, unit: "processes", description: "Grading worker processes; 0 means two per CPU core." },
  CONFINEMENT: { type: "string", default: "required", enum: ["required", "off"], unit: "", description: "The second wall around grading workers (bubblewrap namespaces + seccomp + rlimits). `required` refuses to start without it; `off` runs workers unconfined, with a warning." },
  WORKER_JIT: { type: "string", default: "off", enum: ["auto", "on", "off"], unit: "", description: "V8's JIT in grading workers. `off` (the default) runs them `--jitless` (no executable memory); `on` enables the JIT with WebAssembly still off; `auto`: on when the workers are confined (CONFINEMENT=required). The JIT halved the sandbox-only p50 here (`npm run bench:jit`), but with it a correct slow solution once ran out of its learnt CPU budget on a saturated machine, so it is not the default yet." },
  WORKER_MAX_GRADINGS: { type: "integer", default: 500, minimum: 1, maximum: 100000, unit: "gradings", description: "A worker is replaced after this many gradings (a fork costs about 185 ms of CPU; every grading gets a fresh isolate regardless)." },
  WORKER_RSS_MB: { type: "integer", default: 512, minimum: 64, maximum: 16384, unit: "MB", description: "A worker whose resident memory exceeds this is killed; its submission gets a memory verdict." },
  WORKER_SPAWN_TIMEOUT_MS: { type: "integer", default: 20000, minimum: 1000, maximum: 120000, unit: "ms", description: "How long a new worker may take to become ready." },
  ISOLATE_MEMORY_MB: { type: "integer", default: 64, minimum: 8, maximum: 4096, unit: "MB", description: "V8 heap limit of the isolate that runs a submission." },
  CALL_TIMEOUT_MS: { type: "integer", default: 1000, minimum: 10, maximum: 60000, unit: "ms", description: "Time one call of a graded function may run (including its promise settling)." },
  EVAL_TIMEOUT_MS: { type: "integer", default: 1000, minimum: 10, maximum: 60000, unit: "ms", description: "Time the submission's top-level module code may run." },
  SUBMISSION_WALL_MS: { type: "integer", default: 5000, minimum: 100, maximum: 600000, unit: "ms", description: "Wall-clock budget for grading one submission, all tests included." },
  BUDGETS: { type: "string", default: "learnt", enum: ["learnt", "off"], unit: "", description: "`learnt`: each call and load gets a CPU budget learnt from the reference (BUDGET_FACTOR, BUDGET_MIN_MS, BUDGET_RUNS), under the wall-clock limits. `off`: only the wall-clock limits apply (the matrix still shows the reference's costs)." },
  BUDGET_FACTOR: { type: "number", default: 20, minimum: 1, maximum: 10000, unit: "×", description: "Each case's call budget is this many times the reference's median CPU time on it (clamped to BUDGET_MIN_MS … CALL_TIMEOUT_MS); the load's likewise, up to EVAL_TIMEOUT_MS." },
  BUDGET_MIN_MS: { type: "integer", default: 50, minimum: 1, maximum: 60000, unit: "ms", description: "The smallest CPU budget of a call or a load, however fast the reference." },
  BUDGET_RUNS: { type: "integer", default: 3, minimum: 1, maximum: 25, unit: "runs", description: "Runs of the reference in a pack's self-test whose median CPU time per case sets the budgets." },
  KILL_GRACE_MS: { type: "integer", default: 500, minimum: 50, maximum: 10000, unit: "ms", description: "Extra time past a limit before the worker disposes the isolate, or the service kills the worker." },
  OUTPUT_KIB: { type: "integer", default: 64, minimum: 1, maximum: 4096, unit: "KiB", description: "Console output kept per submission; the rest is dropped and counted." },
  RESULT_KIB: { type: "integer", default: 64, minimum: 1, maximum: 4096, unit: "KiB", description: "Largest value a graded function may return (as JSON)." },
  RESULT_MAX_DEPTH: { type: "integer", default: 32, minimum: 2, maximum: 256, unit: "levels", description: "Deepest nesting of arrays/objects in a returned value." },
  SOURCE_KIB: { type: "integer", default: 256, minimum: 1, maximum: 10240, unit: "KiB", description: "Largest submission source (UTF-8)." },
  REQUEST_KIB: { type: "integer", default: 2048, minimum: 16, maximum: 65536, unit: "KiB", description: "Largest HTTP request body for submissions." },
  PACK_KIB: { type: "integer", default: 4096, minimum: 16, maximum: 65536, unit: "KiB", description: "Largest pack upload (`PUT /v1/assignments/:id`) body." },
  QUEUE_LENGTH: { type: "integer", default: 64, minimum: 0, maximum: 100000, unit: "submissions", description: "Submissions that may wait for a worker; beyond it the service answers 503 with Retry-After." },
  IDEMPOTENCY_WINDOW_S: { type: "integer", default: 86400, minimum: 1, maximum: 31536000, unit: "s", description: "How long a feedback is replayed for a repeated Idempotency-Key or submissionId; after it, the key grades anew." },
  STORE: { type: "string", default: "sqlite", enum: ["sqlite", "memory"], unit: "", description: "Where submissions are kept: `sqlite` (a file in DATA_DIR) or `memory` (SQLite in memory: nothing survives a restart; for benchmarks)." },
  DATA_DIR: { type: "string", default: "data", unit: "", description: "Folder of the SQLite database (`gradebox.db` and its WAL: submissions and API keys), relative to the project root unless absolute; created at start." },
  DATABASE_URL: { type: "string", default: "", pattern: "^(postgres(ql)?://.*)?$", unit: "", description: "`postgres://user:password@host:port/database`: keep submissions, the queue and API keys in PostgreSQL (13+), shared by every node that has the same URL. Empty: SQLite in DATA_DIR (STORE)." },
  DATABASE_POOL_MAX: { type: "integer", default: 10, minimum: 1, maximum: 1000, unit: "connections", description: "PostgreSQL connections at most per node (the submission store and the API keys share them; the store's wake-ups hold one more); only with DATABASE_URL." },
  DATABASE_START_WAIT_S: { type: "integer", default: 60, minimum: 0, maximum: 3600, unit: "s", description: "At start, how long a node waits for PostgreSQL to answer (retrying with backoff) before it gives up and exits; 0 tries once. Only with DATABASE_URL." },
  SOURCE_RETENTION_DAYS: { type: "integer", default: 0, minimum: 0, maximum: 36500, unit: "days", description: "Sources of finished submissions older than this are blanked (their sha256 and feedback stay); 0 keeps them forever." },
  ASYNC_QUEUE_MAX: { type: "integer", default: 100000, minimum: 0, maximum: 100000000, unit: "submissions", description: "Asynchronous submissions that may wait in the store; beyond it `Prefer: respond-async` is answered 503." },
  ROLE: { type: "string", default: "all", enum: ["all", "api", "worker"], unit: "", description: "What this node does when several share one database: `all` serves the API and grades; `api` serves the API and grades nothing (its sync requests are graded by other nodes; it keeps one sandbox worker for the packs' self-tests); `worker` grades and serves only /health, /health/live, /health/ready and /metrics. `api` and `worker` need DATABASE_URL." },
  LEASE_S: { type: "integer", default: 30, minimum: 1, maximum: 3600, unit: "s", description: "A node's hold on a submission it grades, renewed every third of it; when a node dies, its submissions are claimed again after this. A sync submission no node starts within it is answered 503 queue_full." },
  REGRADE_WORKERS: { type: "integer", default: 0, minimum: 0, maximum: 256, unit: "workers", description: "Gradings (live ones included) below which a regrade starts another: it takes only workers no live submission wants, and live gradings leave it fewer. 0: one per core, one core fewer while live submissions keep coming (one started in the last 5 s), at most all workers but one (with one worker, that one)." },
  MAX_ATTEMPTS: { type: "integer", default: 3, minimum: 1, maximum: 100, unit: "attempts", description: "Times a submission is started before it is marked failed (the service stopped while grading it each time)." },
  WEBHOOK_SECRET: { type: "string", default: "", pattern: "^(whsec_[A-Za-z0-9+/]+={0,2})?$", unit: "", description: "Standard Webhooks signing secret, `whsec_<base64>`. Empty turns webhooks off (a callbackUrl is refused)." },
  WEBHOOK_TIMEOUT_MS: { type: "integer", default: 10000, minimum: 10, maximum: 120000, unit: "ms", description: "Time a webhook receiver has to answer before the attempt counts as failed." },
  WEBHOOK_RETRY_MS: { type: "string", default: "5000,30000,120000,600000,3600000", pattern: "^\\d+(,\\d+)*$", unit: "ms", description: "Delays before each retry of a webhook (with ±20% jitter); the last one repeats until WEBHOOK_RETRY_HOURS." },
  WEBHOOK_RETRY_HOURS: { type: "number", default: 25, minimum: 0, maximum: 720, unit: "h", description: "A webhook is retried for this long after its first attempt, then given up." },
  CALLBACK_HOSTS: { type: "string", default: "", unit: "", description: "Comma-separated hosts (`host` or `host:port`) a callbackUrl may point to; any other is refused (server-side request forgery)." },
  RATE_LIMIT_PER_MIN: { type: "integer", default: 600, minimum: 1, maximum: 1000000, unit: "requests/min", description: "Requests a client may make to `/v1` routes per minute: per API key (a key may have its own), or per address while the service is open." },
  METRICS_TOKEN: { type: "string", default: "", unit: "", description: "Bearer token that may read `GET /metrics` from off the machine (admin keys may too); from loopback it is open." },
  SHUTDOWN_GRACE_S: { type: "integer", default: 30, minimum: 0, maximum: 3600, unit: "s", description: "On SIGTERM or SIGINT, how long in-flight gradings may take to finish before the service exits." },
  TYPESCRIPT_THREADS: { type: "integer", default: 2, minimum: 1, maximum: 64, unit: "threads", description: "Worker threads that strip the types of TypeScript submissions, off the HTTP event loop; each loads the compiler when the service starts." },
  TYPESCRIPT_TIMEOUT_MS: { type: "integer", default: 2000, minimum: 100, maximum: 60000, unit: "ms", description: "CPU time one TypeScript source may take to strip (and at most ten times as long in wall-clock time); past it the thread is replaced and the submission is rejected unsupported_typescript." },
  TYPESCRIPT_QUEUE_LENGTH: { type: "integer", default: 16, minimum: 0, maximum: 100000, unit: "submissions", description: "TypeScript sources that may wait for a stripping thread; beyond it the service answers 503 with Retry-After." },
  TYPESCRIPT_MEMORY_MB: { type: "integer", default: 256, minimum: 32, maximum: 4096, unit: "MB", description: "Heap limit of a stripping thread; a source that needs more is rejected unsupported_typescript." },
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
  /** WORKER_JIT with `auto` resolved against CONFINEMENT. */
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
  idempotencyWindowS: number;
  store: "sqlite" | "memory";
  dataDir: string;
  /** Empty: SQLite (STORE, DATA_DIR). Never logged: it may hold a password. */
  databaseUrl: string;
  databasePoolMax: number;
  databaseStartWaitMs: number;
  sourceRetentionDays: number;
  asyncQueueMax: number;
  regradeWorkers: number;
  maxAttempts: number;
  role: "all" | "api" | "worker";
  leaseS: number;
  webhookSecret: string;
  webhookTimeoutMs: number;
  webhookRetryMs: number[];
  webhookRetryHours: number;
  callbackHosts: string[];
  rateLimitPerMin: number;
  metricsToken: string;
  shutdownGraceS: number;
  typescript: { threads: number; timeoutMs: number; queueLength: number; memoryMb: number };
  /** How CPU budgets are learnt from the reference (packs/budgets.ts). */
  budget: { enforce: boolean; factor: number; minMs: number; runs: number };
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
    // The JIT is a larger attack surface than V8's interpreter: it is on by default only behind the second wall.
    workerJit: v.WORKER_JIT === "auto" ? (v.CONFINEMENT === "required" ? "on" : "off") : (v.WORKER_JIT as "on" | "off"),
    workerMaxGradings: v.WORKER_MAX_GRADINGS,
    workerRssMb: v.WORKER_RSS_MB,
    workerSpawnTimeoutMs: v.WORKER_SPAWN_TIMEOUT_MS,
    killGraceMs: v.KILL_GRACE_MS,
    resultMaxDepth: v.RESULT_MAX_DEPTH,
    sourceKiB: v.SOURCE_KIB,
    requestKiB: v.REQUEST_KIB,
    packKiB: v.PACK_KIB,
    queueLength: v.QUEUE_LENGTH,
    idempotencyWindowS: v.IDEMPOTENCY_WINDOW_S,
    store: v.STORE as Config["store"],
    dataDir: path.resolve(packageRoot, v.DATA_DIR),
    databaseUrl: v.DATABASE_URL,
    databasePoolMax: v.DATABASE_POOL_MAX,
    databaseStartWaitMs: v.DATABASE_START_WAIT_S * 1000,
    sourceRetentionDays: v.SOURCE_RETENTION_DAYS,
    asyncQueueMax: v.ASYNC_QUEUE_MAX,
    regradeWorkers: v.REGRADE_WORKERS,
    maxAttempts: v.MAX_ATTEMPTS,
    role: v.ROLE as Config["role"],
    leaseS: v.LEASE_S,
    webhookSecret: v.WEBHOOK_SECRET,
    webhookTimeoutMs: v.WEBHOOK_TIMEOUT_MS,
    webhookRetryMs: v.WEBHOOK_RETRY_MS.split(",").map(Number),
    webhookRetryHours: v.WEBHOOK_RETRY_HOURS,
    callbackHosts: v.CALLBACK_HOSTS.split(",").map((h) => h.trim().toLowerCase()).filter((h) => h !== ""),
    rateLimitPerMin: v.RATE_LIMIT_PER_MIN,
    metricsToken: v.METRICS_TOKEN,
    shutdownGraceS: v.SHUTDOWN_GRACE_S,
    typescript: { threads: v.TYPESCRIPT_THREADS, timeoutMs: v.TYPESCRIPT_TIMEOUT_MS, queueLength: v.TYPESCRIPT_QUEUE_LENGTH, memoryMb: v.TYPESCRIPT_MEMORY_MB },
    budget: { enforce: v.BUDGETS === "learnt", factor: v.BUDGET_FACTOR, minMs: v.BUDGET_MIN_MS, runs: v.BUDGET_RUNS },
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
  // On SQLite no other node shares the queue: an api node's submissions would never be graded, and a
  // worker node would never receive any.
  if (config.role !== "all" && config.databaseUrl === "") {
    throw new ConfigError(`Invalid configuration: ROLE=${config.role} needs DATABASE_URL (a PostgreSQL shared with other nodes); with SQLite use ROLE=all`);
  }
  return config;
}
