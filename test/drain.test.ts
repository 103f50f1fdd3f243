import t from "tap";
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { root, tempDataDir } from "./helpers/app.js";

// Issue 14: a deploy must not kill in-flight gradings. A real service process (server.ts, as `npm start`
// runs it) gets SIGTERM while 20 sync gradings are in flight.

// Twenty gradings of 2.5 s on two workers drain in about 25 s: the grace leaves room for a loaded machine.
const GRACE_S = 90;

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--no-node-snapshot", path.join(root, "dist", "src", "server.js")], {
    env: { PATH: process.env.PATH ?? "", DATA_DIR: tempDataDir(), PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on("data", () => undefined);
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, exited, stdout: () => stdout };
}

t.test("SIGTERM during 20 in-flight sync gradings: all 20 get their feedback, newcomers get 503, and the process exits 0 within the grace", async (t) => {
  // BUDGETS=off: the slow fixture's 2.5 s of top-level work must hold a worker, past any budget learnt from
  // the reference (and EVAL_TIMEOUT_MS above it); the last of the twenty starts after about 22 s, within
  // LEASE_S (a sync submission that no worker starts within it is answered 503).
  const server = start({ BUDGETS: "off", WORKERS: "2", EVAL_TIMEOUT_MS: "10000", SUBMISSION_WALL_MS: "20000", LEASE_S: "120", SHUTDOWN_GRACE_S: String(GRACE_S) });
  t.teardown(() => { server.child.kill("SIGKILL"); });
  let url = "";
  for (let i = 0; i < 600 && url === ""; i++) {
    await new Promise((r) => setTimeout(r, 100));
    url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout())?.[1] ?? "";
  }
  t.not(url, "", "the service started");
  const source = await readFile(path.join(root, "test", "fixtures", "slow", "correct-after-2500ms.mjs"), "utf8");
  const submit = () => fetch(`${url}/v1/submissions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ assignment: "gradient-checking", source }),
  });
  const gradings = Array.from({ length: 20 }, () => submit().then(async (r) => ({ status: r.status, body: await r.json() as { status?: string; score?: number; maxScore?: number } })));

  // Two workers, 2.5 s each: all 20 are in flight (2 grading, 18 queued) from the last arrival until the
  // first two finish. (With a 300 ms fixture that window was too short for a loaded machine to see.)
  let inFlight = 0;
  for (let i = 0; i < 200 && inFlight < 20; i++) {
    const health = await fetch(`${url}/health`).then((r) => r.json()) as { workers: { busy: number; queued: number } };
    inFlight = health.workers.busy + health.workers.queued;
    if (inFlight < 20) await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(inFlight, 20, "20 gradings are in flight when the signal is sent");
  const signalled = Date.now();
  server.child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 200));

  const ready = await fetch(`${url}/health/ready`);
  t.equal(ready.status, 503, "readiness turns 503 at once");
  t.match(await ready.json(), { status: "not_ready", checks: { drain: { ok: false } } });
  const late = await submit();
  t.equal(late.status, 503, "a new sync submission is refused");
  t.ok(Number(late.headers.get("retry-after")) >= 1, "with Retry-After");
  t.match(await late.json(), { error: { code: "shutting_down" } });

  const answers = await Promise.all(gradings);
  t.equal(answers.filter((a) => a.status === 200 && a.body.status === "graded" && a.body.score === a.body.maxScore).length, 20, "all 20 get full-marks feedback");
  t.equal(await server.exited, 0, "the process exits 0");
  t.ok(Date.now() - signalled < GRACE_S * 1000, "within the grace period");
});
