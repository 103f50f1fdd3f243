import t from "tap";
import request from "supertest";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { readPackDir } from "../../src/packs/pack-files.js";
import { validator, schemas } from "../../src/schemas.js";
import { SqliteKeyStore } from "../../src/auth/sqlite-keys.js";
import { buildApp, root, tempDataDir } from "../helpers/app.js";

// A private GRADERS_DIR holding the activations pack: the install below writes to it.
const gradersDir = await mkdtemp(path.join(tmpdir(), "gradebox-graders-"));
await cp(path.join(root, "graders", "activations"), path.join(gradersDir, "activations"), { recursive: true });
const token = "matrix admin token";
const dataDir = tempDataDir();
const app = await buildApp({ GRADERS_DIR: gradersDir, ADMIN_TOKEN: token, DATA_DIR: dataDir });
t.teardown(async () => {
  await app.close();
  await rm(gradersDir, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
});

function createKey(name: string, scopes: Array<"read" | "submit" | "admin">): string {
  const keys = new SqliteKeyStore(dataDir);
  try {
    return keys.create({ name, scopes }).secret;
  } finally {
    keys.close();
  }
}
const admin = { authorization: `Bearer ${token}` };

t.test("GET /v1/assignments/:id/matrix gives an admin the pack's case matrix, computed once per version", async (t) => {
  const response = await request(app.server).get("/v1/assignments/activations/matrix").set(admin);
  t.equal(response.status, 200, JSON.stringify(response.body));
  const matrix = response.body;
  t.ok(validator(schemas.caseMatrix)(matrix), "the answer has the shape of case-matrix.schema.json");
  t.equal(matrix.assignment, "activations");
  const summary = await request(app.server).get("/v1/assignments/activations");
  t.equal(matrix.assignmentVersion, summary.body.assignmentVersion);
  t.equal(matrix.summary.caught, matrix.summary.mutants, "every mutant is caught");
  t.ok(matrix.cases.some((c: { visibility: string }) => c.visibility === "hidden"), "hidden cases are named: this is for instructors");
  const again = await request(app.server).get("/v1/assignments/activations/matrix").set(admin);
  t.same(again.body, matrix, "the same version gives the same matrix (costs are not measured again)");
});

t.test("the matrix needs an admin: anonymous callers and non-admin keys are refused, hidden cases unseen", async (t) => {
  const anonymous = await request(app.server).get("/v1/assignments/activations/matrix");
  t.equal(anonymous.status, 401);
  t.equal(anonymous.body.error.code, "unauthorized");
  t.notMatch(JSON.stringify(anonymous.body), /hidden|relu-huge/);
  const reader = createKey("matrix-reader", ["read", "submit"]);
  const forbidden = await request(app.server).get("/v1/assignments/activations/matrix").set("authorization", `Bearer ${reader}`);
  t.equal(forbidden.status, 403);
  t.equal(forbidden.body.error.code, "forbidden");
  const adminKey = createKey("matrix-admin", ["admin"]);
  const allowed = await request(app.server).get("/v1/assignments/activations/matrix").set("authorization", `Bearer ${adminKey}`);
  t.equal(allowed.status, 200, "an admin key may read it, as ADMIN_TOKEN may");
});

t.test("an unknown assignment's matrix is 404 assignment_not_found", async (t) => {
  const response = await request(app.server).get("/v1/assignments/no-such-pack/matrix").set(admin);
  t.equal(response.status, 404);
  t.equal(response.body.error.code, "assignment_not_found");
});

t.test("installing a pack makes its new version's matrix available, redundant case flagged", async (t) => {
  const files = await readPackDir(path.join(root, "test", "fixtures", "packs", "redundant"));
  const installed = await request(app.server).put("/v1/assignments/redundant").set(admin).send({ files: Object.fromEntries(files) });
  t.equal(installed.status, 201, JSON.stringify(installed.body));
  const response = await request(app.server).get("/v1/assignments/redundant/matrix").set(admin);
  t.equal(response.status, 200);
  t.equal(response.body.assignmentVersion, installed.body.assignment.assignmentVersion);
  t.same(response.body.cases.filter((c: { redundant: boolean }) => c.redundant).map((c: { id: string }) => c.id), ["add-both-positive"]);
});

t.test("the OpenAPI document describes the matrix route and its answer", async (t) => {
  const response = await request(app.server).get("/openapi.json");
  const route = response.body.paths["/v1/assignments/{id}/matrix"]?.get;
  t.ok(route, "the route is documented");
  t.ok(route.responses["200"], "with its 200 answer");
  t.ok(route.responses["404"], "and its 404");
});
