import t from "tap";
import type { FastifyInstance } from "fastify";
import { cpSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { buildApp, root, tempDataDir } from "../helpers/app.js";
import { packMutant } from "../helpers/files.js";
import { ADMIN_TOKEN, ASSIGNMENT, privateGraders, regradeEnv } from "../helpers/regrades.js";
import { readPackDir } from "../../src/packs/pack-files.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";

// Packs installed through the API are kept in the store (on SQLite too): they win over the
// GRADERS_DIR folder at the next start, and a stored pack this node refuses leaves its version live.

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function liveVersion(app: FastifyInstance): Promise<{ assignmentVersion: string; version: string }> {
  const res = await app.inject({ url: `/v1/assignments/${ASSIGNMENT}`, headers: auth });
  return res.json() as { assignmentVersion: string; version: string };
}

/** A log stream for buildApp that keeps each line as an object. */
function captureLog(): { lines: Array<Record<string, unknown>>; stream: Writable; count(msg: string): number } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream, count: (msg) => lines.filter((l) => l.msg === msg).length };
}

async function bundledFiles(): Promise<Map<string, string>> {
  return readPackDir(path.join(root, "graders", ASSIGNMENT));
}

async function put(app: FastifyInstance, files: Map<string, string>): Promise<{ assignmentVersion: string }> {
  const res = await app.inject({ method: "PUT", url: `/v1/assignments/${ASSIGNMENT}`, headers: auth, payload: { files: Object.fromEntries(files) } });
  if (res.statusCode !== 200) throw new Error(`PUT: ${res.statusCode} ${res.body}`);
  return (res.json() as { assignment: { assignmentVersion: string } }).assignment;
}

t.test("a pack installed through the API wins over the folder's version of its id at the next start, until the folder's version is installed again", async (t) => {
  const dataDir = tempDataDir();
  const gradersDir = privateGraders();
  t.teardown(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(gradersDir, { recursive: true, force: true });
  });
  const env = regradeEnv(gradersDir, { DATA_DIR: dataDir });
  const firstLog = captureLog();
  const first = await buildApp(env, { logStream: firstLog.stream });
  const bundled = await liveVersion(first);
  const files = await bundledFiles();
  const assignment = JSON.parse(files.get("assignment.json") as string) as Record<string, unknown>;
  files.set("assignment.json", JSON.stringify({ ...assignment, version: "1.0.1-installed" }, null, 2));
  const installed = await put(first, files);
  // The store's wake-up for this node's own install comes after the install (a microtask); give it time to act, if it wrongly would.
  await new Promise((r) => setTimeout(r, 500));
  await first.close();
  t.equal(firstLog.count("pack installed"), 1, "the PUT installs once");
  t.equal(firstLog.count("pack installed from the store (installed through the API on some node)"), 0, "and the node that installed it does not install it again from the store");

  // A deploy puts the bundled folder back.
  rmSync(path.join(gradersDir, ASSIGNMENT), { recursive: true, force: true });
  cpSync(path.join(root, "graders", ASSIGNMENT), path.join(gradersDir, ASSIGNMENT), { recursive: true });
  const secondLog = captureLog();
  const second = await buildApp(env, { logStream: secondLog.stream });
  t.equal(secondLog.count("pack installed from the store (installed through the API on some node)"), 1, "at start the stored version is installed over the folder's");
  t.match(await liveVersion(second), { assignmentVersion: installed.assignmentVersion, version: "1.0.1-installed" }, "the installed version is live after the restart");
  t.match(JSON.parse(readFileSync(path.join(gradersDir, ASSIGNMENT, "assignment.json"), "utf8")), { version: "1.0.1-installed" }, "and written over the folder's");
  const back = await put(second, await bundledFiles());
  t.equal(back.assignmentVersion, bundled.assignmentVersion, "a PUT of the folder's files installs the folder's version");
  await second.close();

  const third = await buildApp(env);
  t.teardown(() => third.close());
  t.equal((await liveVersion(third)).assignmentVersion, bundled.assignmentVersion, "and that is the one live after the next restart");
});

t.test("a stored pack this node's self-test refuses is logged without its problems' text, and the node starts with the folder's version", async (t) => {
  const gradersDir = privateGraders();
  const dataDir = tempDataDir();
  t.teardown(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(gradersDir, { recursive: true, force: true });
  });
  // What another node might have stored (one whose checks differ): here, a reference that gets relu wrong.
  const files = await bundledFiles();
  files.set("reference/solution.mjs", packMutant("relu-uses-min", ASSIGNMENT));
  const store = openSqliteStore({ dataDir });
  await store.savePack({ id: ASSIGNMENT, version: "0badc0de0badc0de", files: Object.fromEntries(files), installedAt: Date.now() });
  await store.close();
  const { lines, stream } = captureLog();
  const app = await buildApp(regradeEnv(gradersDir, { DATA_DIR: dataDir }), { logStream: stream });
  t.teardown(() => app.close());
  const before = await liveVersion(app);
  t.equal(before.version, "1.0.0", "the folder's version is live");

  const refused = lines.find((l) => typeof l.msg === "string" && l.msg.includes("fails this node's validation or self-test"));
  t.match(refused, { level: 40, assignment: ASSIGNMENT, storedVersion: "0badc0de0badc0de", liveVersion: before.assignmentVersion, problemFiles: Array }, "a warning at start names the pack and both versions");
  t.ok(((refused?.problems as number | undefined) ?? 0) > 0, "and counts the problems");
  t.notOk(JSON.stringify(refused).includes("expected"), "without the problems' text (it may quote hidden cases)");
  const graded = await app.inject({ method: "POST", url: "/v1/submissions", headers: auth, payload: { assignment: ASSIGNMENT, source: readFileSync(path.join(root, "graders", ASSIGNMENT, "reference", "solution.mjs"), "utf8") } });
  t.match(graded.json(), { status: "graded", score: 100, assignmentVersion: before.assignmentVersion }, "and grades");
});

t.test("a stored pack whose version is not its files' hash is refused, so that no wake-up installs it again and again", async (t) => {
  const gradersDir = privateGraders();
  const dataDir = tempDataDir();
  t.teardown(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(gradersDir, { recursive: true, force: true });
  });
  const files = await bundledFiles();
  const assignment = JSON.parse(files.get("assignment.json") as string) as Record<string, unknown>;
  files.set("assignment.json", JSON.stringify({ ...assignment, version: "1.0.1-mislabelled" }, null, 2));
  const store = openSqliteStore({ dataDir });
  await store.savePack({ id: ASSIGNMENT, version: "not-its-hash", files: Object.fromEntries(files), installedAt: Date.now() });
  await store.close();
  const log = captureLog();
  const app = await buildApp(regradeEnv(gradersDir, { DATA_DIR: dataDir }), { logStream: log.stream });
  t.teardown(() => app.close());
  t.equal((await liveVersion(app)).version, "1.0.0", "the folder's version stays live");
  t.match(log.lines.find((l) => l.msg === "the stored pack's version is not its files' hash; this node keeps its previous version"), { level: 40, storedVersion: "not-its-hash", computedVersion: String }, "and a warning names both versions");
});
