import t from "tap";
import { spawn } from "node:child_process";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { root, tempDataDir } from "./helpers/app.js";

/**
 * Runs `node dist/src/server.js` as `npm start` and the Dockerfile do, and collects what it prints. No
 * --no-node-snapshot: the HTTP process does not load isolated-vm (its workers get the flag from pool.ts).
 */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [path.join(root, "dist", "src", "server.js")], {
    env: { PATH: process.env.PATH ?? "", WORKERS: "1", STORE: "memory", DATA_DIR: tempDataDir(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

t.test("the server starts with the bundled packs, answers, and closes cleanly on SIGTERM", async (t) => {
  const server = start({ PORT: "0" });
  let url = "";
  for (let i = 0; i < 300 && url === ""; i++) {
    await new Promise((r) => setTimeout(r, 100));
    url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(server.output().stdout)?.[1] ?? "";
  }
  t.not(url, "", "it logs the address it listens on");
  for (let i = 0; i < 50 && !server.output().stdout.includes(`instructor console at ${url}/console`); i++) await new Promise((r) => setTimeout(r, 100));
  t.match(server.output().stdout, `instructor console at ${url}/console`, "and where the instructor console is");
  const health = await fetch(`${url}/health`).then((r) => r.json()) as { status: string };
  t.equal(health.status, "ok");
  server.child.kill("SIGTERM");
  t.equal(await server.exited, 0, "exit code 0 after SIGTERM");
});

t.test("a broken pack stops the start, with each problem's file and path", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "gradebox-broken-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await cp(path.join(root, "graders", "gradient-checking"), path.join(dir, "gradient-checking"), { recursive: true });
  await writeFile(path.join(dir, "gradient-checking", "cases", "forward-notebook.json"), JSON.stringify({
    id: "forward-notebook", exercise: "forward_propagation", visibility: "public", args: [2, 4], expect: { value: 9, rtol: "small" },
  }));
  const server = start({ PORT: "0", GRADERS_DIR: dir });
  t.equal(await server.exited, 1, "exit code 1");
  const { stderr } = server.output();
  t.match(stderr, /pack 'gradient-checking' is invalid:/);
  t.match(stderr, /cases\/forward-notebook\.json \/expect\/rtol: must be number/);
});

t.test("a bad setting stops the start with a message naming it", async (t) => {
  const server = start({ CALL_TIMEOUT_MS: "forever" });
  t.equal(await server.exited, 78);
  t.match(server.output().stderr, /CALL_TIMEOUT_MS must be integer/);
});

t.test("with CONFINEMENT=required (the default) and no bubblewrap, the start stops and says why and how to fix it", async (t) => {
  const server = start({ PORT: "0", PATH: "/nonexistent" });
  t.equal(await server.exited, 78);
  const { stderr } = server.output();
  t.match(stderr, /CONFINEMENT=required, but grading workers cannot be confined: bubblewrap \(bwrap\) is not installed/);
  t.match(stderr, /apt-get install bubblewrap/);
  t.match(stderr, /CONFINEMENT=off/);
});
