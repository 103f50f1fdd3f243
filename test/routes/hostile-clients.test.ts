import t from "tap";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Ajv } from "ajv";
import type { Feedback } from "../../src/grading/feedback.js";
import { schemas } from "../../src/schemas.js";
import { buildApp, root } from "../helpers/app.js";
import { fixture, packFile } from "../helpers/files.js";
import { largePack } from "../helpers/large-pack.js";
import { timed, whileProbingHealth } from "../helpers/probe.js";

// One hostile client at a time against a listening service, with a load balancer's probe beside it:
// GET /health every 100 ms must keep answering within 1 s (a Kubernetes probe's timeout), and the
// attack itself gets a proper answer, never a 500. "No stall beyond N" uses generous N: a loaded
// two-core machine must pass.

const HEALTH_MS = 1000;
const SOURCE_BYTES = 256 * 1024;

const gradersDir = await mkdtemp(path.join(tmpdir(), "gradebox-graders-"));
await cp(path.join(root, "graders"), gradersDir, { recursive: true });
const token = "hostile clients test";
const app = await buildApp({
  // Generous limits: the packs' self-tests at start and the large pack's 600 calls per module must not
  // time out on a loaded machine; no test here waits for a limit of the sandbox.
  CALL_TIMEOUT_MS: "5000",
  EVAL_TIMEOUT_MS: "5000",
  SUBMISSION_WALL_MS: "60000",
  GRADERS_DIR: gradersDir,
  ADMIN_TOKEN: token,
  TYPESCRIPT_THREADS: "1",
  TYPESCRIPT_TIMEOUT_MS: "1000",
  TYPESCRIPT_QUEUE_LENGTH: "1",
  // Two workers and room for two more: eight TypeScript sources at once are too many (the grading
  // queue admits in one place; the TypeScript threads' own queue refuses only what gets past it).
  WORKERS: "2",
  QUEUE_LENGTH: "2",
});
t.teardown(async () => {
  await app.close();
  await rm(gradersDir, { recursive: true, force: true });
});
const base = await app.listen({ port: 0, host: "127.0.0.1" });

async function post(body: Record<string, unknown>, headers: Record<string, string> = {}, query = ""): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const response = await fetch(`${base}/v1/submissions${query}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
}

const submission = (source: string, extra: Record<string, unknown> = {}) => ({ assignment: "gradient-checking", source, ...extra });

// The first TypeScript submission waits for the thread to load the compiler (the event loop does not).
await post(submission("const warm: number = 1;", { language: "typescript" }));

function asChain(bytes: number): string {
  return `let r = x${" as B".repeat(Math.floor((bytes - 9) / 5))}`;
}

t.test("TypeScript the parser needs seconds for is rejected unsupported_typescript within its limit, and /health answers meanwhile", async (t) => {
  const { result, worstHealthMs } = await whileProbingHealth(base, () => timed(() => post(submission(asChain(SOURCE_BYTES), { language: "typescript" }))));
  t.equal(result.value.status, 200);
  t.equal(result.value.body.status, "rejected");
  t.equal(result.value.body.reason.code, "unsupported_typescript");
  t.match(result.value.body.reason.message, /too complex to parse within 1000 ms/);
  // The limit is CPU time; a busy machine may stretch it up to ten times in wall-clock time.
  t.ok(result.ms < 30_000, `answered in ${result.ms.toFixed(0)} ms`);
  t.ok(worstHealthMs < HEALTH_MS, `/health answered within ${worstHealthMs.toFixed(0)} ms`);
  const after = await post(submission("export const forward_propagation = (x: number, theta: number): number => x * theta;\n", { language: "typescript" }));
  t.equal(after.body.exercises[0].passed, true, "the next TypeScript submission is graded");
});

t.test("eight concurrent sources of brackets do not block /health, and those beyond the queue are refused 503 queue_full with Retry-After", async (t) => {
  const brackets = "}{)(][".repeat(Math.floor(SOURCE_BYTES / 6));
  const { result, worstHealthMs } = await whileProbingHealth(base, () => Promise.all(Array.from({ length: 8 }, () => post(submission(brackets, { language: "typescript" })))));
  for (const answer of result) {
    t.ok(answer.status === 200 || answer.status === 503, `answered ${answer.status}`);
    // Stripped within the limit, the brackets are a syntax error; past it, TypeScript too complex.
    if (answer.status === 200) t.match(answer.body.reason.code, /^(unsupported_typescript|syntax_error)$/);
    if (answer.status === 503) {
      t.equal(answer.body.error.code, "queue_full");
      t.match(answer.headers.get("retry-after"), /^[1-9]\d*$/);
    }
  }
  t.ok(result.some((a) => a.status === 503), "two workers and a queue of two cannot take eight");
  t.ok(worstHealthMs < HEALTH_MS, `/health answered within ${worstHealthMs.toFixed(0)} ms`);
});

t.test("a comment of 36,500 exports before a forbidden import is rejected at once, pointing at the import", async (t) => {
  const source = `/*${"export ".repeat(36_500)}*/;\nimport {readFileSync} from "fs"\n`;
  const { result, worstHealthMs } = await whileProbingHealth(base, () => timed(() => post(submission(source))));
  t.equal(result.value.status, 200);
  t.match(result.value.body.reason, { code: "forbidden_import", line: 2, column: 1 });
  t.ok(result.ms < 10_000, `answered in ${result.ms.toFixed(0)} ms`);
  t.ok(worstHealthMs < HEALTH_MS, `/health answered within ${worstHealthMs.toFixed(0)} ms`);
});

const validateFeedback = new Ajv({ strict: false }).addSchema(Object.values(schemas)).getSchema(schemas.feedback.$id);

t.test("a thrown stack with a 400-digit line, line 0 or a line past the source is graded without those lines, in every format", async (t) => {
  const source = fixture("hostile/forges-stack-positions-in-calls.mjs");
  for (const format of ["native", "gradescope", "prairielearn", "xqueue", "coursera"]) {
    const answer = await post(submission(source), {}, `?format=${format}`);
    t.equal(answer.status, 200, `${format}: 200, not 500`);
    t.notMatch(answer.text, /Infinity|line 0\b|line 123456|"line":0/, `${format}: no forged line`);
    if (format !== "native") continue;
    const feedback = answer.body as Feedback;
    t.ok(validateFeedback?.(feedback), "the feedback matches its schema");
    const first = (name: string) => feedback.exercises.find((e) => e.name === name)?.tests.find((x) => x.visibility === "public");
    for (const name of ["forward_propagation", "backward_propagation", "gradient_check"]) {
      t.equal(first(name)?.line, undefined, `${name}: no line`);
      t.equal(first(name)?.column, undefined, `${name}: no column`);
    }
    t.equal(first("gradient_check_n")?.line, 19, "a real position is kept");
  }
  const atLoad = await post(submission(fixture("hostile/forges-stack-positions.mjs")), {}, "?format=xqueue");
  t.equal(atLoad.status, 200);
  t.notMatch(atLoad.text, /Infinity/);
});

t.test("metadata nested 5,000 levels deep with an Idempotency-Key is graded, and its retry replayed", async (t) => {
  // Written as text: this test's own JSON.stringify would overflow its stack on such a value.
  const metadata = `${'{"a":'.repeat(5000)}1${"}".repeat(5000)}`;
  const body = `{"assignment":"gradient-checking","source":${JSON.stringify(packFile("reference/solution.mjs"))},"metadata":${metadata}}`;
  const send = () => fetch(`${base}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json", "idempotency-key": "deep-metadata" }, body });
  const first = await send();
  t.equal(first.status, 200);
  t.equal(((await first.json()) as Feedback).score, 100);
  const again = await send();
  t.equal(again.status, 200);
  t.equal(again.headers.get("idempotent-replayed"), "true");
});

t.test("a retry whose JSON keys come in another order is replayed, not a conflict", async (t) => {
  const source = packFile("reference/solution.mjs");
  const first = await fetch(`${base}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json", "idempotency-key": "reordered" }, body: JSON.stringify({ assignment: "gradient-checking", source, limits: { callTimeoutMs: 300, outputKiB: 32 }, metadata: { course: 1, user: "u" } }) });
  t.equal(first.status, 200);
  const retry = await fetch(`${base}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json", "idempotency-key": "reordered" }, body: JSON.stringify({ metadata: { user: "u", course: 1 }, limits: { outputKiB: 32, callTimeoutMs: 300 }, source, assignment: "gradient-checking" }) });
  t.equal(retry.status, 200);
  t.equal(retry.headers.get("idempotent-replayed"), "true");
  t.same(await retry.json(), await first.json());
});

t.test("installing a legal 1.1 MB pack of 300 public and 300 hidden cases does not block /health", async (t) => {
  // Smaller than the report's 1.9 MB (test/graders/pack.test.ts checks that one), to keep the self-test short.
  const files = Object.fromEntries(largePack("large-pack", 300));
  const { result, worstHealthMs } = await whileProbingHealth(base, () => timed(() => fetch(`${base}/v1/assignments/large-pack`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ files }),
  }).then(async (r) => ({ status: r.status, body: await r.json() as any }))));
  t.equal(result.value.status, 201, JSON.stringify(result.value.body).slice(0, 500));
  t.equal(result.value.body.selfTest?.reference.passed, 600);
  t.ok(result.ms < 120_000, `installed in ${result.ms.toFixed(0)} ms`);
  t.ok(worstHealthMs < HEALTH_MS, `/health answered within ${worstHealthMs.toFixed(0)} ms`);
});

t.test("bad URL encoding answers 400 bad_url and a too-long path parameter 414 uri_too_long, with the standard body", async (t) => {
  for (const url of ["/v1/assignments/%C0%AE", "/v1/assignments/%FF", "/v1/assignments/%A", "/v1/assignments/gradient-checking/helpers/%E2%82"]) {
    const response = await fetch(`${base}${url}`);
    t.equal(response.status, 400, url);
    t.same(await response.json(), { error: { code: "bad_url", message: "The URL is not valid: a percent-encoded part does not decode as UTF-8" } }, url);
  }
  for (const url of [`/v1/assignments/${"a".repeat(10_000)}`, `/v1/assignments/gradient-checking/helpers/${"b".repeat(10_000)}`]) {
    const response = await fetch(`${base}${url}`);
    t.equal(response.status, 414);
    t.same(await response.json(), { error: { code: "uri_too_long", message: "A part of the URL is longer than 100 characters" } });
  }
});

t.test("a forbidden import with a non-ASCII specifier is named as the student wrote it, at its line", async (t) => {
  const answer = await post(submission(fixture("hostile/imports-non-ascii-specifier.mjs")));
  t.equal(answer.status, 200);
  t.match(answer.body.reason, { code: "forbidden_import", line: 2, column: 1 });
  t.match(answer.body.reason.message, 'Cannot import "fichiers-café-€"', answer.body.reason.message);
});
