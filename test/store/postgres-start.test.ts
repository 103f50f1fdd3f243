import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import t from "tap";
import { DatabaseStartError, waitForDatabase } from "../../src/store/postgres/wait.js";
import { root } from "../helpers/app.js";
import { postgresForTests } from "../helpers/postgres.js";
import { killGroup, startService } from "../helpers/service.js";

// Starting a node before its database (issue #15's leftover: such a node used to exit at once).
t.setTimeout(600_000);

const cluster = await postgresForTests(t);

const dataDir = await mkdtemp(path.join(tmpdir(), "gradebox-pg-start-"));
t.teardown(() => rm(dataDir, { recursive: true, force: true }));

function nodeEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "", PORT: "0", WORKERS: "1", TYPESCRIPT_THREADS: "1", LOG_LEVEL: "info", DATA_DIR: dataDir, DATABASE_URL: databaseUrl, ...extra };
}

if (cluster !== undefined) {
  const url = await cluster.createDatabase("start_test");
  const withPassword = url.replace("postgres://", "postgres://gradebox:s3cret-pw@").replace(/\/\/([^@/]*)@([^@]*)@/, "//$1@");

  t.test("a node started while PostgreSQL is down waits for it, and serves once it answers", async (t) => {
    await cluster.stop();
    let waiting!: () => void;
    const sawWait = new Promise<void>((resolve) => { waiting = resolve; });
    const starting = startService(nodeEnv(url), { onOutput: (text) => { if (text.includes("waiting for PostgreSQL")) waiting(); } });
    // The node must have found the database down (and logged it) before it comes back.
    await sawWait;
    await cluster.start();
    const node = await starting;
    t.teardown(() => killGroup(node));
    const health = await fetch(`${node.url}/health/ready`);
    t.equal(health.status, 200, "ready once PostgreSQL answers");
    t.match(node.output(), /"msg":"PostgreSQL answers"/, "and it says so");
    const submitted = await fetch(`${node.url}/v1/submissions`, {
      method: "POST",
      headers: { "content-type": "application/json", prefer: "respond-async" },
      body: JSON.stringify({ assignment: "gradient-checking", source: "export const forward_propagation = (x, theta) => theta * x;" }),
    });
    t.equal(submitted.status, 202, "and takes submissions into the database");
  });

  t.test("a node PostgreSQL never answers exits 69 after DATABASE_START_WAIT_S, naming the server but not the password", async (t) => {
    await cluster.stop();
    t.teardown(() => cluster.start());
    const child = spawn(process.execPath, ["--no-node-snapshot", path.join(root, "dist", "src", "server.js")], { env: nodeEnv(withPassword, { DATABASE_START_WAIT_S: "1" }), stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    t.equal(code, 69, "EX_UNAVAILABLE");
    t.match(stderr, new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${cluster.port}/start_test did not answer within DATABASE_START_WAIT_S \\(1 s, \\d+ attempts\\)`));
    t.notMatch(stderr + stdout, /s3cret-pw/, "the password is in no message or log line");
  });

  t.test("an error that waiting cannot mend (a database that does not exist) fails at once", async (t) => {
    const started = Date.now();
    const error = await waitForDatabase({ url: cluster.url("no_such_database"), timeoutMs: 600_000 }).then(() => undefined, (e: unknown) => e);
    t.ok(error instanceof DatabaseStartError);
    t.match((error as Error).message, /refused this node: database "no_such_database" does not exist/);
    t.ok(Date.now() - started < 300_000, "without waiting out DATABASE_START_WAIT_S");
  });
}
