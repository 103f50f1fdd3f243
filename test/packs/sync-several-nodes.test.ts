import t from "tap";
import type { FastifyInstance } from "fastify";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { buildApp, root } from "../helpers/app.js";
import { packFile } from "../helpers/files.js";
import { postgresForTests } from "../helpers/postgres.js";
import { ADMIN_TOKEN, ASSIGNMENT, privateGraders, regradeEnv } from "../helpers/regrades.js";
import { readPackDir } from "../../src/packs/pack-files.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { waitFor } from "../helpers/wait-for.js";

// Issue #15's gap: a pack installed through the API on one node becomes live on every node that
// shares the PostgreSQL store, without a restart, and on a node started afterwards.

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface Summary { assignmentVersion: string; version: string }

async function summary(app: FastifyInstance): Promise<Summary> {
  const res = await app.inject({ url: `/v1/assignments/${ASSIGNMENT}`, headers: auth });
  if (res.statusCode !== 200) throw new Error(`GET /v1/assignments/${ASSIGNMENT}: ${res.statusCode} ${res.body}`);
  return res.json() as Summary;
}

const cluster = await postgresForTests(t);
if (cluster !== undefined) {
  t.test("a pack installed through the API on one node is served and graded by the other without a restart, two installs at once end on one version everywhere, and a node started afterwards has it", async (t) => {
    const url = await cluster.createDatabase();
    const dirs = [privateGraders(), privateGraders(), privateGraders()];
    t.teardown(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });
    const [dirA, dirB, dirC] = dirs as [string, string, string];
    const a = await buildApp(regradeEnv(dirA, { DATABASE_URL: url }));
    const b = await buildApp(regradeEnv(dirB, { DATABASE_URL: url }));
    let aOpen = true;
    t.teardown(async () => {
      if (aOpen) await a.close();
      await b.close();
    });
    const bundled = await summary(b);
    t.equal((await summary(a)).assignmentVersion, bundled.assignmentVersion, "both nodes start with the bundled folder's version");

    // A new version of the pack: the same cases, another version in assignment.json.
    const files = await readPackDir(path.join(root, "graders", ASSIGNMENT));
    const assignment = JSON.parse(files.get("assignment.json") as string) as { version: string };
    files.set("assignment.json", JSON.stringify({ ...assignment, version: "1.0.1-synced" }, null, 2));
    const put = await a.inject({ method: "PUT", url: `/v1/assignments/${ASSIGNMENT}`, headers: auth, payload: { files: Object.fromEntries(files) } });
    t.equal(put.statusCode, 200, put.statusCode === 200 ? "the PUT on one node replaces the pack" : put.body);
    const installed = (put.json() as { assignment: Summary }).assignment;
    t.not(installed.assignmentVersion, bundled.assignmentVersion, "the PUT made a new version live on the node that answered it");

    const onB = await waitFor("the other node to serve the new version", async () => {
      const s = await summary(b);
      return s.assignmentVersion === installed.assignmentVersion ? s : undefined;
    });
    t.equal(onB.version, "1.0.1-synced", "the other node serves the new version, without a restart");
    t.match(JSON.parse(readFileSync(path.join(dirB, ASSIGNMENT, "assignment.json"), "utf8")), { version: "1.0.1-synced" }, "and wrote it to its own GRADERS_DIR");

    // Two instructors replace the pack at once, one on each node: every node ends on the one stored last.
    const version = (label: string) => {
      const edited = new Map(files);
      edited.set("assignment.json", JSON.stringify({ ...assignment, version: label }, null, 2));
      return { files: Object.fromEntries(edited) };
    };
    const both = await Promise.all([
      a.inject({ method: "PUT", url: `/v1/assignments/${ASSIGNMENT}`, headers: auth, payload: version("1.0.2-a") }),
      b.inject({ method: "PUT", url: `/v1/assignments/${ASSIGNMENT}`, headers: auth, payload: version("1.0.2-b") }),
    ]);
    t.same(both.map((r) => r.statusCode), [200, 200], "both PUTs are accepted");
    const store = await openPostgresStore({ url, poolMax: 1, isolated: true });
    t.teardown(() => store.close());
    const converged = await waitFor("both nodes to serve the same version", async () => {
      const [sa, sb] = await Promise.all([summary(a), summary(b)]);
      const stored = await store.installedPack(ASSIGNMENT);
      return sa.assignmentVersion === sb.assignmentVersion && sa.assignmentVersion === stored?.version ? sa : undefined;
    });
    t.ok(["1.0.2-a", "1.0.2-b"].includes(converged.version), `both nodes serve the version stored last (${converged.version})`);

    // With the first node gone, only the other can grade: its feedback carries the stored version.
    await a.close();
    aOpen = false;
    const graded = await b.inject({ method: "POST", url: "/v1/submissions", headers: auth, payload: { assignment: ASSIGNMENT, source: packFile("reference/solution.mjs", ASSIGNMENT) } });
    t.equal(graded.statusCode, 200, graded.statusCode === 200 ? "a sync submission to the other node is answered" : graded.body);
    t.match(graded.json(), { status: "graded", assignmentVersion: converged.assignmentVersion }, "a submission graded on the other node carries the installed version");

    // A node started afterwards, from a folder with the bundled version: the stored install wins.
    const c = await buildApp(regradeEnv(dirC, { DATABASE_URL: url }));
    t.teardown(() => c.close());
    t.match(await summary(c), { assignmentVersion: converged.assignmentVersion, version: converged.version }, "a node started afterwards serves the stored version from its first answer");
    t.match(JSON.parse(readFileSync(path.join(dirC, ASSIGNMENT, "assignment.json"), "utf8")), { version: converged.version }, "and has written it over its folder's");

    // While the database is down a PUT cannot be shared, so it installs nothing, anywhere.
    await store.close();
    await cluster.stop();
    try {
      const refused = await c.inject({ method: "PUT", url: `/v1/assignments/${ASSIGNMENT}`, headers: auth, payload: version("1.0.3-unshared") });
      t.equal(refused.statusCode, 503, "a PUT while the store is down is refused");
      t.equal((refused.json() as { error: { code: string } }).error.code, "store_unavailable", "a PUT while the store is down answers 503 store_unavailable");
      t.equal((await summary(c)).assignmentVersion, converged.assignmentVersion, "and the node keeps the shared version");
    } finally {
      await cluster.start();
    }
  });
}
