import t from "tap";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { SqliteKeyStore } from "../../src/auth/sqlite-keys.js";
import { buildApp, root, tempDataDir } from "../helpers/app.js";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { packFile, packMutant } from "../helpers/files.js";

// The console in a real browser (Debian's chromium through playwright-core), against a real service
// on a loopback port, with submissions made through the API as a course platform makes them.

const gradersDir = await mkdtemp(path.join(tmpdir(), "gradebox-graders-"));
await cp(path.join(root, "graders"), gradersDir, { recursive: true });
const ADMIN_TOKEN = "console test admin token";
const dataDir = tempDataDir();
// A key without admin, made in the service's own key store before it starts.
const keyStore = new SqliteKeyStore(dataDir);
const reader = keyStore.create({ name: "course platform", scopes: ["submit", "read"] });
keyStore.close();
const app = await buildApp({ DATA_DIR: dataDir, GRADERS_DIR: gradersDir, ADMIN_TOKEN, CALL_TIMEOUT_MS: "5000", SUBMISSION_WALL_MS: "20000", RATE_LIMIT_PER_MIN: "100000" });
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
if (address === null || typeof address === "string") throw new Error("the service has no port");
const base = `http://127.0.0.1:${address.port}`;
const { browser, close } = await launchBrowser();
t.teardown(async () => {
  await close();
  await app.close();
  await rm(gradersDir, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
});

const ASSIGNMENT = "gradient-checking";
// The README's example: forward_propagation right, backward_propagation wrong (the notebook's "Error: Wrong output").
const TWENTY_FIVE = "export const forward_propagation = (x, theta) => theta * x;\nexport const backward_propagation = (x, theta) => theta;\n";
// Right but for a negative x: fails one hidden case of backward_propagation (backward-negative-x) and nothing else there.
const ABS_BACKWARD = "export const forward_propagation = (x, theta) => theta * x;\nexport const backward_propagation = (x, theta) => Math.abs(x);\n";
const THROWS_ON_LINE_2 = "export const forward_propagation = (x, theta) => {\n  throw new Error(\"not yet\");\n};\n";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(method: "GET" | "POST", url: string, body?: object): Promise<{ status: number; body: any }> {
  const response = await app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, ...(body !== undefined ? { payload: body } : {}) });
  return { status: response.statusCode, body: response.json() };
}

async function submit(student: string, source: string): Promise<string> {
  const answer = await api("POST", "/v1/submissions", { assignment: ASSIGNMENT, source, student });
  if (answer.status !== 200) throw new Error(`${student}'s submission: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.id as string;
}

// A small cohort: full marks, a quarter, nothing, a mutant, a throw, and a student whose latest is better than the first.
const aliceId = await submit("alice", packFile("reference/solution.mjs"));
const bobId = await submit("bob", TWENTY_FIVE);
await submit("carol", packFile("starter/solution.mjs"));
await submit("dave", packMutant("hardcoded-backward"));
await submit("erin", TWENTY_FIVE);
await submit("erin", packFile("reference/solution.mjs"));
const frankId = await submit("frank", THROWS_ON_LINE_2);
const ginaId = await submit("gina", ABS_BACKWARD);
const STORED = 8;

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${base}/console`);
  await page.getByLabel("API key or ADMIN_TOKEN").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForSelector("main[data-ready]");
}

async function open(page: Page, url: string): Promise<string | null> {
  await page.goto(`${base}${url}`);
  await page.waitForSelector("main[data-ready]");
  return page.getAttribute("main", "data-ready");
}

const adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const admin = await adminContext.newPage();

t.test("an instructor signs in with ADMIN_TOKEN, kept in an HttpOnly SameSite=Strict cookie, and sees every assignment", async (t) => {
  await admin.goto(`${base}/console`);
  await admin.getByLabel("API key or ADMIN_TOKEN").fill("not the token");
  await admin.getByRole("button", { name: "Sign in" }).click();
  t.match(await admin.textContent("#sign-in-error"), /not a valid API key/, "a wrong key is refused on the form");
  await signIn(admin, ADMIN_TOKEN);
  t.equal(await admin.getAttribute("main", "data-ready"), "true");
  const [cookie] = await adminContext.cookies();
  t.equal(cookie?.httpOnly, true);
  t.equal(cookie?.sameSite, "Strict");
  t.equal(await admin.evaluate("document.cookie"), "", "the page's scripts cannot read the key");
  const rows = admin.locator("[data-testid=assignments] tbody tr");
  t.equal(await rows.count(), (await api("GET", "/v1/assignments")).body.assignments.length, "one row per pack");
  const activity = (await api("GET", `/v1/assignments/${ASSIGNMENT}/activity`)).body;
  t.equal(activity.submissions.last24h, STORED);
  const cells = await rows.filter({ hasText: "Gradient Checking" }).locator("td").allTextContents();
  t.match(cells[3], /^passed: \d+ cases, \d+ mutants caught$/, "its self-test state");
  t.equal(cells[4], String(activity.submissions.last24h), "submissions in the last 24 hours");
  t.equal(cells[5], String(activity.submissions.last7d), "and in the last 7 days");
  await screenshot(admin, "console-assignments");
});

t.test("an assignment's histogram has one bar per bucket, each with the API's count", async (t) => {
  t.equal(await open(admin, `/console/assignments/${ASSIGNMENT}`), "true");
  const { buckets, submissions } = (await api("GET", `/v1/assignments/${ASSIGNMENT}/activity`)).body.scores;
  t.equal(submissions, 7, "one latest submission per student");
  const bars = admin.locator('#histogram rect[aria-label^="score"]');
  t.equal(await bars.count(), buckets.length, "as many bars as buckets");
  const titles = await bars.locator("title").allTextContents();
  t.same(titles.map((title) => Number(title.split(": ")[1])), buckets.map((b: { count: number }) => b.count), "each bar's count is its bucket's");
  t.equal(buckets.at(-1).count, 2, "alice and erin (her latest) have full marks");
  t.ok(await admin.locator("[data-testid=most-failed] tbody tr").count() > 0, "the tests failed most often are listed");
  t.ok(await admin.getByText("gradient-check-n-seed2-m5").count() > 0, "an instructor sees hidden cases by name");
  t.ok(await admin.locator('#per-day rect[aria-label$="submissions"]').count() > 0, "submissions over time are drawn");
  await admin.locator("[data-testid=matrix]").waitFor({ timeout: 60_000 });
  t.equal(await admin.locator("[data-testid=matrix] tbody tr").count(), (await api("GET", `/v1/assignments/${ASSIGNMENT}/matrix`)).body.cases.length, "the matrix has a row per case");
  await screenshot(admin, "console-assignment");
  // The README's picture (docs/console-assignment.png is a copy): what an instructor sees first.
  await admin.evaluate("window.scrollTo(0, 0)");
  await screenshot(admin, "console-assignment-top", { fullPage: false });
});

t.test("the assignment page is usable 390 px wide: nothing wider than the screen but the tables' own scrolling", async (t) => {
  const phone = await adminContext.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  t.equal(await open(phone, `/console/assignments/${ASSIGNMENT}`), "true");
  t.ok(await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling of the page");
  await screenshot(phone, "console-assignment-390px");
  await phone.close();
});

t.test("a failed submission shows the notebook's message as the student saw it, beside the hidden cases behind its hidden tests", async (t) => {
  t.equal(await open(admin, `/console/submissions/${bobId}`), "true");
  const student = admin.locator('[data-view="student"]');
  t.equal(await student.locator("[data-testid=score]").textContent(), "25 of 100");
  // The failed public test of backward_propagation, as the API stored it.
  const stored = (await api("GET", `/v1/submissions/${bobId}?format=native`)).body;
  const failed = stored.exercises.find((e: { name: string }) => e.name === "backward_propagation").tests.find((test: { visibility: string; status: string }) => test.visibility === "public" && test.status === "failed");
  t.equal(failed.message, "Error: Wrong output", "the notebook's message, in the API");
  t.equal(await student.locator(`li.test[data-test="${failed.id}"] .message`).textContent(), "Error: Wrong output", "and on the page");
  const hiddenRows = admin.locator("[data-testid=hidden-cases] tbody tr");
  t.ok(await hiddenRows.count() > 0, "the staff view lists the hidden tests");
  t.match(await hiddenRows.first().textContent(), /-hidden-1/);
  await screenshot(admin, "console-submission");
});

t.test("a submission's console output keeps its ANSI colours, and a thrown error's line is marked in the source", async (t) => {
  t.equal(await open(admin, `/console/submissions/${aliceId}`), "true");
  t.match(await admin.locator(".terminal span.ansi-fg-92").first().textContent(), "works perfectly fine", "the notebook's green message");
  t.equal(await open(admin, `/console/submissions/${frankId}`), "true");
  await admin.locator(".cm-error-line").first().waitFor();
  t.same(await admin.locator(".cm-error-line").evaluateAll((lines) => lines.map((l) => l.getAttribute("data-error-line"))), ["2"], "line 2 threw");
});

t.test("Try it grades the starter in the real service (0 of 100), then an edited source with missing_export and wrong_value, and stores nothing", async (t) => {
  t.equal(await open(admin, `/console/assignments/${ASSIGNMENT}/try`), "true");
  t.match(await admin.locator(".cm-content").textContent(), "forward_propagation", "the starter is in the editor");
  const score = admin.locator("#result [data-testid=score]");
  await admin.getByRole("button", { name: "Grade" }).click();
  await score.waitFor({ timeout: 60_000 });
  t.equal(await score.textContent(), "0 of 100");
  // The same kinds of mistake as the API gives for the starter (today's starter returns placeholders of the wrong type).
  const starter = (await api("POST", `/v1/assignments/${ASSIGNMENT}/trials`, { source: packFile("starter/solution.mjs") })).body;
  const kinds = (feedback: { exercises: Array<{ tests: Array<{ errorKind?: string }> }> }) => [...new Set(feedback.exercises.flatMap((e) => e.tests.map((test) => test.errorKind)).filter((k) => k !== undefined))].sort();
  t.same([...new Set(await admin.locator("#result [data-error-kind]").allTextContents())].sort(), kinds(starter), "the starter's mistakes, as the API names them");
  await screenshot(admin, "console-try");

  // Typed in the editor with the keyboard: one wrong function, the other three missing.
  await admin.locator(".cm-content").click();
  await admin.keyboard.press("Control+A");
  await admin.keyboard.press("Delete");
  await admin.keyboard.insertText("export const forward_propagation = (x, theta) => theta + x;\n");
  await admin.locator("#result").evaluate((result) => result.replaceChildren());
  await admin.getByRole("button", { name: "Grade" }).click();
  await score.waitFor({ timeout: 60_000 });
  t.equal(await score.textContent(), "0 of 100");
  t.ok(await admin.locator('#result [data-error-kind="missing_export"]').count() > 0, "missing exports");
  t.ok(await admin.locator('#result [data-error-kind="wrong_value"]').count() > 0, "a wrong value");
  const stored = (await api("GET", `/v1/submissions?assignment=${ASSIGNMENT}&limit=200`)).body.items.length;
  t.equal(stored, STORED, "no trial is a stored submission");
  await screenshot(admin, "console-try-edited");
});

t.test("a key without admin signs in, but its session cannot open hidden inputs (403)", async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await signIn(page, reader.secret);
  t.equal(await open(page, `/console/assignments/${ASSIGNMENT}`), "true");
  t.equal(await page.getByText("gradient-check-n-seed2-m5").count(), 0, "no hidden case on the page");
  t.ok(await page.getByText(/hidden cases: their inputs are for admins only/).count() > 0);
  // The page's own way to the API: the cookie, with the CSRF token from the shell.
  const status = await page.evaluate(`(async () => {
    const csrf = document.querySelector('meta[name="gradebox-csrf"]').content;
    const response = await fetch("/v1/assignments/${ASSIGNMENT}/cases", { headers: { "x-gradebox-csrf": csrf } });
    return { status: response.status, body: await response.json() };
  })()`) as { status: number; body: { error: { code: string } } };
  t.equal(status.status, 403);
  t.equal(status.body.error.code, "forbidden");
  await screenshot(page, "console-assignment-not-admin");
  await context.close();
});

t.test("previewing a draft without a hidden case improves exactly the students who failed only it; publishing asks once and regrades", async (t) => {
  // A case the matrix calls redundant (its mutants are caught by others too), so the draft still proves itself.
  const REMOVED = "backward-negative-x";
  const matrix = (await api("GET", `/v1/assignments/${ASSIGNMENT}/matrix`)).body;
  t.equal(matrix.cases.find((c: { id: string }) => c.id === REMOVED).redundant, true, "the case is a redundant candidate");
  const removed = ((await api("GET", `/v1/assignments/${ASSIGNMENT}/cases`)).body.cases as Array<{ id: string; exercise: string; testId: string }>).find((c) => c.id === REMOVED)!;
  const summary = (await api("GET", `/v1/assignments/${ASSIGNMENT}`)).body;
  t.equal(summary.exercises.find((e: { name: string }) => e.name === removed.exercise).scoring, "all-or-nothing");
  // Expected from the stored feedback: each student's latest submission whose only failed test in the
  // exercise (all or nothing) is the removed one.
  const items = (await api("GET", `/v1/submissions?assignment=${ASSIGNMENT}&limit=200`)).body.items as Array<{ id: string; student: string; status: string }>;
  const latest = new Map<string, string>();
  for (const item of items) if (!latest.has(item.student) && item.status === "graded") latest.set(item.student, item.id);
  let expected = 0;
  for (const id of latest.values()) {
    const tests = (await api("GET", `/v1/submissions/${id}?format=native`)).body.exercises.find((e: { name: string }) => e.name === removed.exercise).tests as Array<{ id: string; status: string }>;
    const failed = tests.filter((x) => x.status !== "passed").map((x) => x.id);
    if (failed.length === 1 && failed[0] === removed.testId) expected++;
  }
  t.equal(expected, 1, "gina, in this cohort");

  const versionBefore = summary.assignmentVersion;
  t.equal(await open(admin, `/console/assignments/${ASSIGNMENT}/preview`), "true");
  await admin.locator(`input[data-case="${REMOVED}"]`).check();
  await admin.getByRole("button", { name: "Preview the regrade" }).click();
  const preview = admin.locator('[data-testid=regrade][data-status="done"]');
  await preview.or(admin.locator("#preview-result .error")).first().waitFor({ timeout: 120_000 });
  t.equal(await preview.locator('[data-count="improved"]').textContent(), String(expected), "the expected improved count");
  t.equal(await preview.locator('[data-count="worsened"]').textContent(), "0");
  const flips = (await api("GET", `/v1/regrades/${await preview.getAttribute("data-regrade")}`)).body.changes as Array<{ outcome: string }>;
  t.equal(await preview.locator("[data-testid=flips] tbody tr").count(), flips.length, "every change the API lists");
  t.equal((await preview.locator("[data-testid=flips] tbody td:nth-child(3)").allTextContents()).filter((o) => o === "improved").length, expected, "and who improves");
  t.equal((await api("GET", `/v1/assignments/${ASSIGNMENT}`)).body.assignmentVersion, versionBefore, "a preview installs nothing");
  await screenshot(admin, "console-preview");

  await admin.getByRole("button", { name: "Publish and regrade…" }).click();
  const dialog = admin.getByRole("dialog");
  await dialog.waitFor();
  await dialog.getByRole("button", { name: "Publish and regrade" }).click();
  const published = admin.locator('[data-testid=regrade][data-status="done"]').nth(1);
  await published.waitFor({ timeout: 120_000 });
  t.equal(await published.locator('[data-count="improved"]').textContent(), String(expected), "the real regrade improves the same submissions");
  t.not((await api("GET", `/v1/assignments/${ASSIGNMENT}`)).body.assignmentVersion, versionBefore, "the draft is live");
  t.equal(await open(admin, `/console/submissions/${ginaId}`), "true");
  t.equal(await admin.locator("[data-testid=gradings] tbody tr").count(), 2, "gina's history: submitted, then regraded");
  t.equal(await admin.locator("[data-view=student] [data-testid=score]").textContent(), "50 of 100", "her latest grading counts backward_propagation now");
  await screenshot(admin, "console-submission-history");
});
