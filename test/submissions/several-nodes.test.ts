import t, { type Test } from "tap";
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fixture, packFile, packMutant } from "../helpers/files.js";
import { postgresForTests } from "../helpers/postgres.js";
import { killGroup, startService, type Service } from "../helpers/service.js";
import { webhookReceiver } from "../helpers/webhook-receiver.js";

/**
 * Several gradebox nodes, each its own process on loopback, sharing one PostgreSQL (issue #15):
 * a node SIGKILLed with its workers, the database restarted, and a sync request taken by an
 * api-only node and graded by a worker node. Nothing accepted may be lost, stored twice, or left
 * without its webhook.
 */
// A couple of minutes on a quiet 2-core machine; a loaded one may take far longer, and a time limit
// is not what this test is about.
t.setTimeout(1_800_000);

const cluster = await postgresForTests(t);

const receiver = await webhookReceiver(t);
/** Per submission id: how many signed deliveries, and every webhook-id they carried. */
const deliveries = receiver.delivered;

const dataDir = await mkdtemp(path.join(tmpdir(), "gradebox-nodes-"));
t.teardown(() => rm(dataDir, { recursive: true, force: true }));

function nodeEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    PORT: "0",
    // Three nodes on two cores: one grading worker each.
    WORKERS: "1",
    TYPESCRIPT_THREADS: "1",
    LOG_LEVEL: "info",
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    // A dead node's submissions are claimed again after this.
    LEASE_S: "3",
    // A top-level loop costs EVAL_TIMEOUT_MS; honest calls keep a wide margin, so that a loaded
    // machine cannot turn a right answer into a timeout and make the verdicts differ for the wrong reason.
    CALL_TIMEOUT_MS: "3000",
    EVAL_TIMEOUT_MS: "200",
    SUBMISSION_WALL_MS: "10000",
    KILL_GRACE_MS: "300",
    WEBHOOK_SECRET: receiver.secret,
    CALLBACK_HOSTS: receiver.host,
    WEBHOOK_RETRY_MS: "200",
    WEBHOOK_TIMEOUT_MS: "2000",
    // The test polls from one address, far more than 600 a minute on a slow machine; a 429 there
    // would read as a lost submission.
    RATE_LIMIT_PER_MIN: "1000000",
    ...extra,
  };
}

const sources: Record<string, string> = {
  reference: packFile("reference/solution.mjs"),
  mutantForward: packMutant("hardcoded-forward"),
  mutantNumerator: packMutant("gradient-check-numerator-only"),
  syntaxError: "export function forward_propagation(x, theta) {\n  return x *;\n}\n",
  throwsAtTopLevel: "throw new Error('no');\n",
  loopAtTopLevel: fixture("hostile/loop-at-top-level.mjs"),
};
// Mostly cheap work (rejected before any case runs), three honest gradings in ten (they cost the most
// CPU), one hostile in ten: the test is about coordination, and runs on a loaded 2-core machine.
const kinds = ["reference", "syntaxError", "throwsAtTopLevel", "mutantForward", "syntaxError", "throwsAtTopLevel", "mutantNumerator", "syntaxError", "loopAtTopLevel", "throwsAtTopLevel"];

/** A response's status and JSON body; a node that is down or a database restarting reads as status 0. */
async function json(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  try {
    const response = await fetch(url, init);
    return { status: response.status, body: await response.json() };
  } catch {
    return { status: 0, body: {} };
  }
}

/**
 * Posts `total` async submissions spread over `targets` (ten at a time) into `accepted` (id -> kind).
 * `targets` may shrink meanwhile (a node about to be killed is taken out first). Each submission has
 * its own Idempotency-Key, and one that gets no answer (its node was killed mid-request) or a 5xx (the
 * database restarting) is
 * sent again to another node with the same key: a replay returns the same id on any node, so a
 * submission stored before its node died is never counted twice nor lost from `accepted`.
 */
async function postAsync(targets: Service[], total: number, student: string, accepted = new Map<string, string>()): Promise<Map<string, string>> {
  let next = 0;
  const post = async () => {
    while (next < total) {
      const n = next++;
      const kind = kinds[n % kinds.length] as string;
      // Up to 30 s of retries: long enough for a database restart on a loaded machine.
      for (let attempt = 0; attempt < 300; attempt++) {
        const node = targets[(n + attempt) % targets.length] as Service;
        const response = await json(`${node.url}/v1/submissions`, {
          method: "POST",
          headers: { "content-type": "application/json", prefer: "respond-async", "idempotency-key": `${student}-${n}` },
          body: JSON.stringify({ assignment: "gradient-checking", source: sources[kind], student, callbackUrl: `${receiver.url}/hook` }),
        });
        if (response.status === 202 || (response.status === 200 && typeof response.body.id === "string")) {
          accepted.set(response.body.id as string, kind);
          break;
        }
        if (response.status !== 0 && response.status < 500) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  await Promise.all(Array.from({ length: 10 }, post));
  return accepted;
}

async function idsWithStatus(url: string, student: string, status?: string): Promise<string[] | undefined> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await json(`${url}/v1/submissions?student=${student}&limit=200${status === undefined ? "" : `&status=${status}`}${cursor === null ? "" : `&cursor=${cursor}`}`);
    if (page.status !== 200) return undefined;
    ids.push(...(page.body.items as Array<{ id: string }>).map((i) => i.id));
    cursor = page.body.nextCursor as string | null;
  } while (cursor !== null);
  return ids;
}

/** Waits until nothing of `student` is queued or running and every accepted submission's webhook arrived. */
async function settle(url: string, student: string, accepted: Map<string, string>): Promise<void> {
  for (let i = 0; i < 12_000; i++) {
    if ([...accepted.keys()].every((id) => deliveries.has(id))) {
      const queued = await idsWithStatus(url, student, "queued");
      const running = await idsWithStatus(url, student, "running");
      if (queued?.length === 0 && running?.length === 0) return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The right verdicts: what each source gets when graded synchronously now. */
async function expectedVerdicts(t: Test, url: string): Promise<Map<string, { status: string; score: number }>> {
  const expected = new Map<string, { status: string; score: number }>();
  for (const kind of Object.keys(sources)) {
    const sync = await json(`${url}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ assignment: "gradient-checking", source: sources[kind] }) });
    t.equal(sync.status, 200, `the ${kind} source is graded synchronously`);
    expected.set(kind, { status: sync.body.status, score: sync.body.score });
  }
  t.ok(expected.get("loopAtTopLevel")?.status === "rejected" && expected.get("reference")?.score === 100 && (expected.get("mutantForward")?.score ?? 100) < 100, "the verdicts compared against are the real ones");
  return expected;
}

/**
 * Every accepted submission is stored once, with its source's verdict, and its webhook was delivered
 * (at least once, always with one webhook-id: one stored result, one event).
 */
async function checkAll(t: Test, url: string, student: string, accepted: Map<string, string>, expected: Map<string, { status: string; score: number }>): Promise<void> {
  const stored = await idsWithStatus(url, student);
  t.equal(stored?.length, accepted.size, "stored exactly once each: no duplicate record");
  t.same(new Set(stored), new Set(accepted.keys()), "the stored ids are the accepted ids");
  const wrong: string[] = [];
  const undelivered: string[] = [];
  const twoEvents: string[] = [];
  for (const [id, kind] of accepted) {
    // A node records "delivered" after the receiver has answered (after PostgreSQL came back, if it was
    // down then): the receiver can have seen a delivery a moment before its record says so.
    let { status: httpStatus, body } = await json(`${url}/v1/submissions/${id}`);
    for (let i = 0; i < 600 && deliveries.has(id) && body.webhook?.state !== "delivered"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ({ status: httpStatus, body } = await json(`${url}/v1/submissions/${id}`));
    }
    const want = expected.get(kind);
    if (body.status !== want?.status || body.score !== want?.score) wrong.push(`${kind} ${id}: HTTP ${httpStatus} ${body.status ?? body.error?.code} ${body.score}`);
    const seen = deliveries.get(id);
    if (body.webhook?.state !== "delivered" || seen === undefined) undelivered.push(id);
    if (seen !== undefined && seen.webhookIds.size !== 1) twoEvents.push(`${id}: ${[...seen.webhookIds].join(", ")}`);
  }
  t.same(wrong, [], "every submission has the verdict its source gets");
  t.same(undelivered, [], "every webhook was delivered at least once");
  t.same(twoEvents, [], "each submission's deliveries carry one webhook-id: one result was stored");
  t.equal(receiver.badSignatures(), 0, "every delivery was correctly signed");
}

/** Submission ids a node's log says it graded. */
function gradedBy(node: Service): Set<string> {
  const ids = new Set<string>();
  for (const line of node.output().split("\n")) {
    if (!line.includes('"msg":"graded"')) continue;
    try {
      ids.add((JSON.parse(line) as { submission: string }).submission);
    } catch {
      // A line cut by the output cap.
    }
  }
  return ids;
}

if (cluster !== undefined) {
  t.test("three nodes share one database: of 600 async submissions spread over them, with one node SIGKILLed partway, every one is graded with the right verdict, stored once, and its webhook delivered", async (t) => {
    const env = nodeEnv(await cluster.createDatabase());
    const nodes: Service[] = [];
    for (let i = 0; i < 3; i++) nodes.push(await startService(env));
    t.teardown(() => Promise.all(nodes.map(killGroup)));
    const [first, second, victim] = nodes as [Service, Service, Service];

    const total = 600;
    // The kill comes while submissions are still arriving (grading here can outpace intake, so a kill
    // after the last POST might find nothing left to do): once a third are accepted and the victim
    // has graded some, it leaves the targets and is killed; the rest go to the two others.
    const targets = [...nodes];
    const accepted = new Map<string, string>();
    const posting = postAsync(targets, total, "nodes-kill", accepted);
    for (let i = 0; i < 6000 && (accepted.size < total / 3 || gradedBy(victim).size === 0); i++) await new Promise((r) => setTimeout(r, 20));
    targets.splice(targets.indexOf(victim), 1);
    const acceptedAtKill = accepted.size;
    const gradedBeforeKill = gradedBy(victim).size;
    t.comment(`killing one node with ${acceptedAtKill} of ${total} accepted and ${deliveries.size} webhooks delivered, after it graded ${gradedBeforeKill}`);
    await killGroup(victim);
    t.ok(gradedBeforeKill > 0, "the killed node had been grading");
    t.ok(acceptedAtKill < total, "the kill came while submissions were still arriving");
    await posting;
    t.equal(accepted.size, total, "every submission was accepted with 202 by one node or another (a replay on another node where the killed one never answered)");

    await settle(first.url, "nodes-kill", accepted);
    const expected = await expectedVerdicts(t, second.url);
    await checkAll(t, first.url, "nodes-kill", accepted, expected);
    t.ok(first.alive() && second.alive(), "the other nodes are still running");
    if (process.env.NODES_TEST_LOGS !== undefined) nodes.forEach((n, i) => writeFileSync(`${process.env.NODES_TEST_LOGS}-kill-${i}.log`, n.output()));
    const [a, b] = [gradedBy(first), gradedBy(second)];
    t.ok(a.size > 0 && b.size > 0, `both surviving nodes graded (${a.size} and ${b.size}; the killed one ${gradedBeforeKill})`);
  });

  t.test("PostgreSQL restarted (pg_ctl restart -m fast) during a run of 200 submissions: every one completes, and no node exits", async (t) => {
    const env = nodeEnv(await cluster.createDatabase(), { LEASE_S: "5" });
    const nodes: Service[] = [];
    for (let i = 0; i < 2; i++) nodes.push(await startService(env));
    t.teardown(() => Promise.all(nodes.map(killGroup)));
    const [first] = nodes as [Service];

    const total = 200;
    // The restart comes while submissions are still arriving (as in the kill test: grading may outpace
    // intake): once a third are accepted and some delivered. POSTs that meet the outage (503
    // store_unavailable) are sent again with their Idempotency-Key.
    const accepted = new Map<string, string>();
    const posting = postAsync(nodes, total, "nodes-restart", accepted);
    for (let i = 0; i < 6000 && (accepted.size < total / 3 || ![...accepted.keys()].some((id) => deliveries.has(id))); i++) await new Promise((r) => setTimeout(r, 20));
    const acceptedAtRestart = accepted.size;
    const before = [...accepted.keys()].filter((id) => deliveries.has(id)).length;
    t.comment(`restarting PostgreSQL with ${acceptedAtRestart} of ${total} accepted and ${before} delivered`);
    const restartAt = Date.now();
    await cluster.restart();
    t.comment(`PostgreSQL answered again after ${Date.now() - restartAt} ms`);
    t.ok(acceptedAtRestart < total && before < total, "the restart came while submissions were still arriving and waiting");
    await posting;
    t.equal(accepted.size, total, "every submission was accepted with 202 (those that met the outage, on a retry with their key)");

    await settle(first.url, "nodes-restart", accepted);
    t.comment(`all ${total} settled ${Date.now() - restartAt} ms after the restart began`);
    if (process.env.NODES_TEST_LOGS !== undefined) nodes.forEach((n, i) => writeFileSync(`${process.env.NODES_TEST_LOGS}-${i}.log`, n.output()));
    const expected = await expectedVerdicts(t, first.url);
    await checkAll(t, first.url, "nodes-restart", accepted, expected);
    t.ok(nodes.every((n) => n.alive()), "no node exited");
    t.match(nodes.map((n) => n.output()).join(""), /database/i, "the nodes noticed the database was gone");
  });

  t.test("a sync request posted to an api-only node is graded by a worker node", async (t) => {
    const databaseUrl = await cluster.createDatabase();
    const api = await startService(nodeEnv(databaseUrl, { ROLE: "api" }));
    t.teardown(() => killGroup(api));
    const worker = await startService(nodeEnv(databaseUrl, { ROLE: "worker" }));
    t.teardown(() => killGroup(worker));

    const response = await json(`${api.url}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ assignment: "gradient-checking", source: sources.reference }) });
    t.equal(response.status, 200, "answered on the connection it came in on");
    t.equal(response.body.status, "graded");
    t.equal(response.body.score, 100);
    const id = response.body.id as string;
    t.ok(gradedBy(worker).has(id), "the worker node graded it");
    t.notOk(gradedBy(api).has(id), "the api node did not");
    t.equal((await json(`${worker.url}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status, 404, "the worker node serves no API");
    t.equal((await json(`${worker.url}/health`)).status, 200, "but answers /health");
    t.equal((await json(`${worker.url}/health/ready`)).status, 200, "and its probes");
    t.equal((await fetch(`${worker.url}/metrics`)).status, 200, "and /metrics");
  });

  t.test("an api-only node with no worker node anywhere answers a sync request 503 queue_full after LEASE_S and records it failed; an async one waits queued", async (t) => {
    const api = await startService(nodeEnv(await cluster.createDatabase(), { ROLE: "api", LEASE_S: "1" }));
    t.teardown(() => killGroup(api));
    t.equal((await json(`${api.url}/health`)).body.workers?.workers, 1, "one sandbox worker, for the packs' self-tests only");
    const queued = await json(`${api.url}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json", prefer: "respond-async" }, body: JSON.stringify({ assignment: "gradient-checking", source: sources.reference }) });
    t.equal(queued.status, 202);
    const response = await fetch(`${api.url}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ assignment: "gradient-checking", source: sources.reference, student: "nobody-grades" }) });
    t.equal(response.status, 503);
    t.equal(((await response.json()) as { error: { code: string } }).error.code, "queue_full");
    t.ok(Number(response.headers.get("retry-after")) >= 1, "with Retry-After");
    const [id] = (await idsWithStatus(api.url, "nobody-grades")) ?? [];
    t.match((await json(`${api.url}/v1/submissions/${id}`)).body, { status: "failed", error: { code: "queue_full" } }, "recorded failed, so its idempotency key grades anew");
    t.equal((await json(`${api.url}/v1/submissions/${queued.body.id}`)).body.status, "queued", "no node graded the async one");
  });
}
