import { availableParallelism } from "node:os";
import t from "tap";
import { loadConfig, settings } from "../src/config.js";
import { configTable } from "../scripts/config-table.js";
import { readRepoFile } from "./helpers/files.js";

t.test("with no environment, the service listens on port 3000 with the documented defaults", async (t) => {
  const config = loadConfig({});
  t.equal(config.port, 3000);
  t.equal(config.limits.callTimeoutMs, settings.CALL_TIMEOUT_MS.default);
  t.equal(config.sourceKiB, 256);
  t.equal(config.workers, Math.max(2, 2 * availableParallelism()), "by default, two workers per core (and at least two)");
  t.equal(loadConfig({ WORKERS: "0" }).workers, config.workers, "WORKERS=0 is the default");
});

t.test("every limit can be set from the environment", async (t) => {
  const config = loadConfig({ CALL_TIMEOUT_MS: "250", ISOLATE_MEMORY_MB: "32", OUTPUT_KIB: "8", QUEUE_LENGTH: "3", WORKERS: "1" });
  t.equal(config.limits.callTimeoutMs, 250);
  t.equal(config.limits.isolateMemoryMb, 32);
  t.equal(config.limits.outputKiB, 8);
  t.equal(config.queueLength, 3);
  t.equal(config.workers, 1);
});

t.test("the TypeScript threads are set from the environment", async (t) => {
  t.same(loadConfig({}).typescript, { threads: 2, timeoutMs: 2000, queueLength: 16, memoryMb: 256 });
  const config = loadConfig({ TYPESCRIPT_THREADS: "3", TYPESCRIPT_TIMEOUT_MS: "500", TYPESCRIPT_QUEUE_LENGTH: "0", TYPESCRIPT_MEMORY_MB: "64" });
  t.same(config.typescript, { threads: 3, timeoutMs: 500, queueLength: 0, memoryMb: 64 });
});

t.test("a bad value stops the start with a message naming the variable", async (t) => {
  t.throws(() => loadConfig({ CALL_TIMEOUT_MS: "soon" }), { name: "ConfigError" });
  t.throws(() => loadConfig({ CALL_TIMEOUT_MS: "soon" }), /CALL_TIMEOUT_MS must be integer/);
  t.throws(() => loadConfig({ PORT: "70000" }), /PORT must be <= 65535/);
  t.throws(() => loadConfig({ LOG_LEVEL: "loud" }), /LOG_LEVEL must be equal to one of the allowed values/);
  t.throws(() => loadConfig({ SOURCE_KIB: "4096", REQUEST_KIB: "1024" }), /REQUEST_KIB must be at least SOURCE_KIB/);
});

t.test("the README's configuration table lists every setting with its default and unit", async (t) => {
  const readme = readRepoFile("README.md");
  for (const line of configTable().split("\n")) t.ok(readme.includes(line), `README has: ${line.slice(0, 60)}…`);
});

t.test("ROLE=api or ROLE=worker without DATABASE_URL stops the start: on SQLite no other node shares the queue", async (t) => {
  for (const role of ["api", "worker"]) t.throws(() => loadConfig({ ROLE: role }), { name: "ConfigError", message: new RegExp(`ROLE=${role} needs DATABASE_URL`) });
  t.equal(loadConfig({ ROLE: "worker", DATABASE_URL: "postgres://127.0.0.1:1/x" }).role, "worker");
  t.equal(loadConfig({}).role, "all");
  t.equal(loadConfig({}).leaseS, 30);
});

t.test("workers run --jitless by default; WORKER_JIT=auto turns the JIT on only behind the second wall", async (t) => {
  t.equal(loadConfig({}).workerJit, "off", "the default: --jitless");
  t.equal(loadConfig({ WORKER_JIT: "auto" }).workerJit, "on", "auto and confined: the JIT is on");
  t.equal(loadConfig({ WORKER_JIT: "auto", CONFINEMENT: "off" }).workerJit, "off", "auto and unconfined: --jitless");
  t.equal(loadConfig({ CONFINEMENT: "off", WORKER_JIT: "on" }).workerJit, "on");
  t.equal(loadConfig({ WORKER_JIT: "off" }).workerJit, "off");
  t.throws(() => loadConfig({ WORKER_JIT: "fast" }), /WORKER_JIT must be equal to one of the allowed values/);
});
