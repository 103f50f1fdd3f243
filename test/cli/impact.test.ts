import t from "tap";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { buildApp } from "../helpers/app.js";
import { ADMIN_TOKEN, draftWithoutHidden, failedOnlyHidden, getSubmission, privateGraders, regradeEnv, seedCohort } from "../helpers/regrades.js";
import { run, scratchDir } from "./support.js";

// A service on loopback with stored submissions, and an instructor's edited copy of its pack.
const gradersDir = privateGraders();
t.teardown(() => rm(gradersDir, { recursive: true, force: true }));
const app = await buildApp(regradeEnv(gradersDir));
t.teardown(() => app.close());
await app.listen({ port: 0, host: "127.0.0.1" });
const server = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
const cohort = await seedCohort(app);
const stored = new Map(await Promise.all(cohort.map(async (s) => [s.id, await getSubmission(app, s.id)] as const)));
const mutantFeedback = new Map(cohort.filter((s) => s.label.startsWith("mutant:")).map((s) => [s.label.slice("mutant:".length), stored.get(s.id)!]));

const scratch = await scratchDir();
const draftDir = path.join(scratch, "activations");
for (const [name, content] of Object.entries(await draftWithoutHidden(gradersDir, "relu", mutantFeedback))) {
  await mkdir(path.dirname(path.join(draftDir, name)), { recursive: true });
  await writeFile(path.join(draftDir, name), content);
}

t.test("gradebox-pack impact previews a draft on the service: the summary and the first changes", async (t) => {
  const improved = cohort.filter((s) => s.label !== "twice-first" && failedOnlyHidden(stored.get(s.id)!, "relu"));
  const { code, stdout, stderr } = await run(["impact", draftDir, "--server", server, "--token", ADMIN_TOKEN, "--first", "2"]);
  t.equal(code, 0, stderr);
  t.match(stdout, /^Impact on activations \(draft version [0-9a-f]+, scope latest\): (\d+) of \1 submissions graded, done/);
  t.match(stdout, new RegExp(`improved +${improved.length}\\n`));
  t.match(stdout, /worsened +0\n/);
  t.match(stdout, new RegExp(`Exercises whose score moves: relu ${improved.length}`));
  const lines = stdout.split("\n");
  const header = lines.findIndex((line) => /^First changes \(2 of \d+, moved scores first\):$/.test(line));
  t.ok(header > 0, "the first changes follow the summary");
  for (const line of lines.slice(header + 1, header + 3)) t.match(line, /improved {2}\d+\/100 -> \d+\/100 {2}\[relu 0 -> 20\] {2}cases: relu-/, "improved first");
  t.match(lines[header + 3], / more: GET \/v1\/regrades\/[0-9a-f-]+\?format=csv$/);
  const json = await run(["impact", draftDir, "--server", server, "--token", ADMIN_TOKEN, "--scope", "all", "--json"]);
  t.equal(json.code, 0);
  const answer = JSON.parse(json.stdout) as { status: string; total: number; counts: { improved: number } };
  const improvedAll = cohort.filter((s) => failedOnlyHidden(stored.get(s.id)!, "relu"));
  t.match(answer, { status: "done", total: cohort.length, counts: { improved: improvedAll.length } }, "--scope all grades the earlier submissions too");
});

t.test("gradebox-pack impact says why the service refused, with exit code 1", async (t) => {
  const wrongToken = await run(["impact", draftDir, "--server", server, "--token", "nope"]);
  t.equal(wrongToken.code, 1);
  t.match(wrongToken.stderr, /401 unauthorized/);
  const broken = path.join(scratch, "broken", "activations");
  await mkdir(broken, { recursive: true });
  await writeFile(path.join(broken, "assignment.json"), "{}");
  const invalid = await run(["impact", broken, "--server", server, "--token", ADMIN_TOKEN]);
  t.equal(invalid.code, 1);
  t.match(invalid.stderr, /422 invalid_pack/);
  const usage = await run(["impact", draftDir]);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /needs --server URL/);
});
