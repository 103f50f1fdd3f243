import t from "tap";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fixture, packFile, packMutant } from "../helpers/files.js";
import { killGroup, startService } from "../helpers/service.js";
import { webhookReceiver } from "../helpers/webhook-receiver.js";

/**
 * The service as its own process, SIGKILLed (with its workers) in the middle of an async backlog,
 * then started again on the same DATA_DIR: nothing accepted may be lost, graded twice into two
 * records, or left without its webhook.
 */
const TOTAL = 300;
// About a minute on a quiet 2-core machine; a loaded one (other builds, other suites) may take far
// longer, and a time limit is not what this test is about.
t.setTimeout(900_000);
const STUDENT = "crash-test";

const receiver = await webhookReceiver(t);
const delivered = receiver.delivered;

const dataDir = await mkdtemp(path.join(tmpdir(), "gradebox-crash-"));
t.teardown(() => rm(dataDir, { recursive: true, force: true }));

const env = {
  PATH: process.env.PATH ?? "",
  PORT: "0",
  WORKERS: "2",
  LOG_LEVEL: "info",
  DATA_DIR: dataDir,
  // Hostile submissions cost little: the budgets learnt from the reference stop a loop after tens of ms
  // of CPU time. The wall-clock limits, the outer guard, keep a wide margin, so that a loaded machine
  // cannot turn a right answer into a timeout and make the verdicts differ for the wrong reason (a
  // per-request callTimeoutMs of 150 ms for the looping export once timed out its honest call too).
  CALL_TIMEOUT_MS: "3000",
  EVAL_TIMEOUT_MS: "200",
  SUBMISSION_WALL_MS: "10000",
  KILL_GRACE_MS: "300",
  WEBHOOK_SECRET: receiver.secret,
  CALLBACK_HOSTS: receiver.host,
  WEBHOOK_RETRY_MS: "200",
  WEBHOOK_TIMEOUT_MS: "2000",
  // The test polls the list and reads every record from one address, far more than 600 a minute on a
  // slow machine; a 429 there would read as a lost submission.
  RATE_LIMIT_PER_MIN: "1000000",
};

/** Starts `node dist/src/server.js` in its own process group (so one kill reaches its workers too). */
const start = () => startService(env);

const sources: Record<string, string> = {
  reference: packFile("reference/solution.mjs"),
  mutantForward: packMutant("hardcoded-forward"),
  mutantNumerator: packMutant("gradient-check-numerator-only"),
  syntaxError: "export function forward_propagation(x, theta) {\n  return x *;\n}\n",
  throwsAtTopLevel: "throw new Error('no');\n",
  loopAtTopLevel: fixture("hostile/loop-at-top-level.mjs"),
  loopInExport: fixture("hostile/loop-in-export.mjs"),
};
// Each kind's share of the 300: mostly honest work, one in five hostile.
const kinds = ["reference", "mutantForward", "mutantNumerator", "syntaxError", "reference", "throwsAtTopLevel", "mutantForward", "loopAtTopLevel", "reference", "loopInExport"];

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json() };
}

async function countStatus(url: string, status: string): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page: { body: { items: unknown[]; nextCursor: string | null } } = await json(`${url}/v1/submissions?student=${STUDENT}&status=${status}&limit=200${cursor === null ? "" : `&cursor=${cursor}`}`);
    count += page.body.items.length;
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  return count;
}

t.test("SIGKILL with half the async backlog queued loses nothing: every accepted submission is graded once, right, and its webhook delivered", async (t) => {
  const first = await start();
  const accepted = new Map<string, string>(); // id -> kind
  let next = 0;
  const post = async () => {
    while (next < TOTAL) {
      const kind = kinds[next++ % kinds.length] as string;
      const response = await json(`${first.url}/v1/submissions`, {
        method: "POST",
        headers: { "content-type": "application/json", prefer: "respond-async" },
        body: JSON.stringify({ assignment: "gradient-checking", source: sources[kind], student: STUDENT, callbackUrl: `${receiver.url}/hook` }),
      });
      if (response.status === 202) accepted.set(response.body.id as string, kind);
    }
  };
  await Promise.all(Array.from({ length: 10 }, post));
  t.equal(accepted.size, TOTAL, "every submission was accepted with 202");
  // Kill once a fair share is done, while many still wait.
  for (let i = 0; i < 600 && delivered.size < TOTAL / 3; i++) await new Promise((r) => setTimeout(r, 50));
  const queued = await countStatus(first.url, "queued");
  t.comment(`killing with ${queued} of ${TOTAL} queued and ${delivered.size} webhooks delivered`);
  await killGroup(first);
  t.ok(queued > TOTAL / 10, "a large part of the backlog was still queued when the service was killed");
  t.ok(queued < TOTAL, "and some had been graded");

  const second = await start();
  t.teardown(() => killGroup(second));
  for (let i = 0; i < 6000; i++) {
    if (await countStatus(second.url, "queued") + await countStatus(second.url, "running") === 0 && [...accepted.keys()].every((id) => delivered.has(id))) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  // The right verdicts: what the same sources get when graded synchronously now.
  const expected = new Map<string, { status: string; score: number }>();
  for (const kind of Object.keys(sources)) {
    const sync = await json(`${second.url}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ assignment: "gradient-checking", source: sources[kind] }) });
    t.equal(sync.status, 200, kind);
    expected.set(kind, { status: sync.body.status, score: sync.body.score });
  }
  t.ok(expected.get("loopAtTopLevel")?.status === "rejected" && expected.get("reference")?.score === 100, "the verdicts compared against are the real ones");

  const stored: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await json(`${second.url}/v1/submissions?student=${STUDENT}&limit=200${cursor === null ? "" : `&cursor=${cursor}`}`);
    stored.push(...page.body.items.map((i) => i.id));
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  t.equal(stored.length, TOTAL, "stored exactly once each: no duplicate record");
  t.same(new Set(stored), new Set(accepted.keys()), "the stored ids are the accepted ids");

  const wrong: string[] = [];
  const undelivered: string[] = [];
  for (const [id, kind] of accepted) {
    const { status: http, body } = await json(`${second.url}/v1/submissions/${id}`);
    const want = expected.get(kind);
    if (body.status !== want?.status || body.score !== want?.score) wrong.push(`${kind} ${id}: HTTP ${http} ${body.status ?? body.code} ${body.score}`);
    if (body.webhook?.state !== "delivered" || !delivered.has(id)) undelivered.push(id);
  }
  t.same(wrong, [], "every submission has the verdict its source gets");
  t.same(undelivered, [], "every webhook was delivered at least once");
  t.equal(receiver.badSignatures(), 0, "every delivery was correctly signed");
});
