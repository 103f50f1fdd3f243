import t from "tap";
import request from "supertest";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { readPackDir } from "../../src/packs/pack-files.js";
import { scaffoldPack } from "../../src/cli/scaffold.js";
import { buildApp, root } from "../helpers/app.js";
import { packFile } from "../helpers/files.js";

// A private copy of the packs: installs write to GRADERS_DIR.
const gradersDir = await mkdtemp(path.join(tmpdir(), "gradebox-graders-"));
await cp(path.join(root, "graders"), gradersDir, { recursive: true });
const token = "correct horse battery staple";
// BUDGETS=off: the replace test's slow solution spins 1.5 s in one call, past any budget learnt from the reference.
const app = await buildApp({ GRADERS_DIR: gradersDir, ADMIN_TOKEN: token, CALL_TIMEOUT_MS: "5000", SUBMISSION_WALL_MS: "20000", BUDGETS: "off" });
t.teardown(async () => {
  await app.close();
  await rm(gradersDir, { recursive: true, force: true });
});

async function packBody(edit: (files: Map<string, string>) => void = () => undefined) {
  const files = await readPackDir(path.join(root, "graders", "gradient-checking"));
  edit(files);
  return { files: Object.fromEntries(files) };
}

t.test("GET /v1/assignments lists the bundled packs with their versions", async (t) => {
  const response = await request(app.server).get("/v1/assignments");
  t.equal(response.status, 200);
  const ids = response.body.assignments.map((a: { id: string }) => a.id);
  t.ok(ids.includes("gradient-checking"));
});

t.test("GET /v1/assignments/:id shows exercises, points and public cases, and only counts hidden ones", async (t) => {
  const response = await request(app.server).get("/v1/assignments/gradient-checking");
  t.equal(response.status, 200);
  const body = response.body;
  t.equal(body.title, "Gradient Checking");
  t.equal(body.version, "1.0.0");
  t.match(body.assignmentVersion, /^[0-9a-f]{16}$/);
  t.same(body.imports, ["gc_utils"]);
  t.same(body.exercises.map((e: { name: string; points: number; hiddenCases: number; publicCases: unknown[] }) => [e.name, e.points, e.publicCases.length, e.hiddenCases]), [
    ["forward_propagation", 25, 1, 2],
    ["backward_propagation", 25, 1, 2],
    ["gradient_check", 25, 2, 8],
    ["gradient_check_n", 25, 1, 8],
  ]);
  t.same(body.contract.exports, ["forward_propagation", "backward_propagation", "gradient_check", "gradient_check_n"], "the import contract names the exports");
  t.same(body.contract.languages, ["javascript", "typescript"]);
  t.same(body.contract.imports, [{ specifier: "gc_utils", url: "/v1/assignments/gradient-checking/helpers/gc_utils" }]);
  t.equal((await request(app.server).get(body.contract.imports[0].url)).status, 200, "the helper's url serves it");
  t.equal((await request(app.server).get(body.contract.starter)).status, 200, "the starter's url serves it");
  t.same(body.exercises[0].publicCases[0].args, [2, 4]);
  t.equal(body.exercises[0].publicCases[0].expected, "a finite number equal to 8 (exactly)");
  const notebook = body.exercises[2].publicCases[0];
  t.equal(notebook.id, "gradient-check-notebook");
  t.match(notebook.printed, /^printed: "\\x1b\[93mThere is a mistake in the backward propagation! difference = \{value\}\\x1b\[0m" when the returned number is greater than 2e-7, else "\\x1b\[92mYour backward/, "a case graded on output says what must be printed");
  t.equal(body.exercises[2].publicCases[1].printed, undefined, "a case that does not grade output says nothing of it");
  for (const id of ["forward-negative-x", "gradient-check-large-theta", "gradient-check-n-seed2-m5"]) {
    const hidden = JSON.parse(packFile(`cases/${id}.json`));
    t.notOk(response.text.includes(id), `${id} is not named`);
    t.notOk(response.text.includes(JSON.stringify(hidden.expect.value)), `${id}'s expected value is not shown`);
    t.notOk(response.text.includes(hidden.description), `${id}'s description is not shown`);
  }
});

t.test("an unknown assignment is a 404 with a stable code", async (t) => {
  const response = await request(app.server).get("/v1/assignments/nope");
  t.equal(response.status, 404);
  t.equal(response.body.error.code, "assignment_not_found");
});

t.test("the starter and the helper module are served as JavaScript", async (t) => {
  const starter = await request(app.server).get("/v1/assignments/gradient-checking/starter");
  t.equal(starter.status, 200);
  t.match(starter.headers["content-type"], /^text\/javascript/);
  t.equal(starter.text, packFile("starter/solution.mjs"));
  const helper = await request(app.server).get("/v1/assignments/gradient-checking/helpers/gc_utils");
  t.equal(helper.text, packFile("helpers/gc_utils.mjs"));
  const missing = await request(app.server).get("/v1/assignments/gradient-checking/helpers/fs");
  t.equal(missing.status, 404);
});

t.test("GET /health is ok with the packs and workers", async (t) => {
  const response = await request(app.server).get("/health");
  t.equal(response.status, 200);
  t.equal(response.body.status, "ok");
  t.ok(response.body.workers.ready >= 1);
  t.ok(response.body.assignments.some((a: { id: string }) => a.id === "gradient-checking"));
});

t.test("installing needs the bearer token: none is 401, a wrong one is 401 too", async (t) => {
  const body = await packBody();
  const none = await request(app.server).put("/v1/assignments/gradient-checking").send(body);
  t.equal(none.status, 401);
  t.equal(none.body.error.code, "unauthorized");
  const wrong = await request(app.server).put("/v1/assignments/gradient-checking").set("authorization", "Bearer guess").send(body);
  t.equal(wrong.status, 401);
  t.equal(wrong.body.error.code, "unauthorized");
});

t.test("a failing pack is refused with 422 and the same problems the CLI prints; the live pack is untouched", async (t) => {
  const before = (await request(app.server).get("/v1/assignments/gradient-checking")).body.assignmentVersion;
  const body = await packBody((files) => {
    const file = JSON.parse(files.get("cases/backward-negative-x.json") as string);
    file.expect.value = 2.5;
    files.set("cases/backward-negative-x.json", JSON.stringify(file));
  });
  const response = await request(app.server).put("/v1/assignments/gradient-checking").set("authorization", `Bearer ${token}`).send(body);
  t.equal(response.status, 422);
  t.equal(response.body.error.code, "invalid_pack");
  t.same(response.body.error.details.problems, [
    { file: "cases/backward-negative-x.json", path: "/expect", message: "the reference solution fails this case: received -2.5" },
  ]);
  t.equal((await request(app.server).get("/v1/assignments/gradient-checking")).body.assignmentVersion, before);
});

t.test("a replacement mutant whose find is not in the reference is refused with 422, naming the mutant, the text and the count", async (t) => {
  const body = await packBody((files) => {
    const assignment = JSON.parse(files.get("assignment.json") as string);
    assignment.mutants[0].replace[0].find = "const J = x * theta;";
    files.set("assignment.json", JSON.stringify(assignment));
  });
  const response = await request(app.server).put("/v1/assignments/gradient-checking").set("authorization", `Bearer ${token}`).send(body);
  t.equal(response.status, 422);
  t.same(response.body.error.details.problems, [{
    file: "assignment.json",
    path: "/mutants/0/replace/0/find",
    code: "mutant_find_not_unique",
    message: "mutant 'hardcoded-forward': \"const J = x * theta;\" occurs 0 times in reference/solution.mjs; each find must occur exactly once",
  }]);
});

t.test("a pack whose id differs from the URL is refused", async (t) => {
  const response = await request(app.server).put("/v1/assignments/other-id").set("authorization", `Bearer ${token}`).send(await packBody());
  t.equal(response.status, 422);
  t.match(response.body.error.details.problems[0], { file: "assignment.json", path: "/id" });
});

t.test("a new pack installs with 201, goes live and persists to disk", async (t) => {
  const files = Object.fromEntries(scaffoldPack("mean-demo"));
  const response = await request(app.server).put("/v1/assignments/mean-demo").set("authorization", `Bearer ${token}`).send({ files });
  t.equal(response.status, 201);
  t.equal(response.body.replaced, false);
  t.equal(response.body.selfTest.reference.passed, 4);
  const [replacement, wholeFile] = response.body.selfTest.mutants;
  t.match(replacement, { id: "divides-by-n-minus-one", from: "reference/solution.mjs", score: 0 }, "the mutant made by a replacement was graded");
  t.ok(replacement.failedCases.length > 0, "and caught");
  t.match(wholeFile, { id: "returns-sum", file: "mutants/returns-sum.mjs", score: 0 });
  const graded = await request(app.server).post("/v1/submissions").send({ assignment: "mean-demo", source: files["reference/solution.mjs"] });
  t.equal(graded.body.score, 10);
  t.equal(await readFile(path.join(gradersDir, "mean-demo", "assignment.json"), "utf8"), files["assignment.json"]);
});

t.test("a replace is atomic: a grading in flight finishes on its version, the next one uses the new one", async (t) => {
  const oldVersion = (await request(app.server).get("/v1/assignments/gradient-checking")).body.assignmentVersion;
  // A correct solution that takes a while, so that it is still being graded while the replace happens.
  const slow = packFile("reference/solution.mjs").replace(
    "export function forward_propagation(x, theta) {",
    "let first = true;\nexport function forward_propagation(x, theta) {\n  const until = Date.now() + (first ? 1500 : 0);\n  first = false;\n  while (Date.now() < until) {}",
  );
  const inFlight = request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: slow }).then((r) => r);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const body = await packBody((files) => {
    const assignment = JSON.parse(files.get("assignment.json") as string);
    assignment.version = "1.0.1";
    files.set("assignment.json", JSON.stringify(assignment, null, 2));
  });
  const replaced = await request(app.server).put("/v1/assignments/gradient-checking").set("authorization", `Bearer ${token}`).send(body);
  t.equal(replaced.status, 200);
  t.equal(replaced.body.replaced, true);
  const newVersion = replaced.body.assignment.assignmentVersion;
  t.not(newVersion, oldVersion);
  const finished = await inFlight;
  t.equal(finished.body.score, 100);
  t.equal(finished.body.assignmentVersion, oldVersion, "the grading in flight kept the version it started with");
  const next = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: packFile("reference/solution.mjs") });
  t.equal(next.body.assignmentVersion, newVersion);
  t.equal((await request(app.server).get("/v1/assignments/gradient-checking")).body.version, "1.0.1");
  t.match(await readFile(path.join(gradersDir, "gradient-checking", "assignment.json"), "utf8"), /"version": "1.0.1"/);
});

t.test("with no ADMIN_TOKEN and no admin key, nobody can install a pack, even while the service is open", async (t) => {
  const closed = await buildApp({ WORKERS: "1" });
  t.teardown(() => closed.close());
  const anonymous = await request(closed.server).put("/v1/assignments/gradient-checking").send(await packBody());
  t.equal(anonymous.status, 401);
  t.equal(anonymous.body.error.code, "unauthorized");
  const guessed = await request(closed.server).put("/v1/assignments/gradient-checking").set("authorization", `Bearer ${token}`).send(await packBody());
  t.equal(guessed.status, 401);
  t.equal(guessed.body.error.code, "unauthorized");
});
