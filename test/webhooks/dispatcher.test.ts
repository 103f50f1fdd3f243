import t from "tap";
import request from "supertest";
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { buildApp, fastLimits } from "../helpers/app.js";
import { packFile } from "../helpers/files.js";
import { webhookReceiver } from "../helpers/webhook-receiver.js";

/** A receiver on loopback: each path answers as its handler says (the helper keeps every request). */
const flakyCount = new Map<string, number>();
const receiver = await webhookReceiver(t, {
  answer({ path }, res) {
    if (path.startsWith("/ok")) res.writeHead(200).end("thanks");
    else if (path.startsWith("/flaky")) {
      const seen = (flakyCount.get(path) ?? 0) + 1;
      flakyCount.set(path, seen);
      res.writeHead(seen <= 2 ? 500 : 200).end();
    } else if (path.startsWith("/gone")) res.writeHead(410).end();
    else if (path.startsWith("/redirect")) res.writeHead(302, { location: "/ok/after-redirect" }).end();
    else if (path.startsWith("/big")) res.writeHead(200).end("x".repeat(1 << 20));
    // Otherwise it never answers (the helper's teardown cuts the connection).
  },
});
const { received, secret, port } = receiver;

// Long enough that a loaded machine never times out a receiver that answers at once (the first test counts
// one attempt), short enough that the silent receiver's test stays quick.
const TIMEOUT_MS = 2000;
const app = await buildApp({
  ...fastLimits,
  // A wide margin for honest calls: a loaded machine must not turn the reference's answer into a timeout.
  CALL_TIMEOUT_MS: "3000",
  SUBMISSION_WALL_MS: "10000",
  WEBHOOK_SECRET: secret,
  CALLBACK_HOSTS: `localhost:1, ${receiver.host}`,
  WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
  WEBHOOK_RETRY_MS: "100,200",
});
t.teardown(() => app.close());
const base = receiver.url;
const source = packFile("reference/solution.mjs");

async function submitWithCallback(path: string, extra: Record<string, unknown> = {}): Promise<string> {
  const accepted = await request(app.server).post("/v1/submissions").set("prefer", "respond-async").send({ assignment: "gradient-checking", source, callbackUrl: `${base}${path}`, ...extra });
  if (accepted.status !== 202) throw new Error(`expected 202, got ${accepted.status}: ${JSON.stringify(accepted.body)}`);
  return accepted.body.id as string;
}

/** Polls GET (native: gradebox's shape, with the webhook's state) until `done` holds of the body (bounded). */
async function until(id: string, done: (body: { webhook?: { state: string; attempts: number; lastStatus: number | null; nextAttemptAt: string | null } }) => boolean) {
  for (let i = 0; i < 300; i++) {
    const body = (await request(app.server).get(`/v1/submissions/${id}?format=native`)).body;
    if (done(body)) return body;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`submission ${id} never reached the expected webhook state`);
}

const hits = (path: string) => received.filter((r) => r.path === path);

t.test("the webhook is signed per Standard Webhooks: the receiver verifies it with the standardwebhooks package", async (t) => {
  const id = await submitWithCallback("/ok/signed", { format: "xqueue" });
  const body = await until(id, (b) => b.webhook?.state === "delivered");
  t.match(body.webhook, { state: "delivered", attempts: 1, lastStatus: 200, nextAttemptAt: null });
  const [delivery] = hits("/ok/signed");
  t.ok(delivery);
  t.match(delivery?.headers["webhook-signature"], /^v1,[A-Za-z0-9+/]+=*$/);
  const payload = new Webhook(secret).verify(delivery?.body ?? "", delivery?.headers as Record<string, string>) as { type: string; timestamp: string; data: unknown };
  t.equal(payload.type, "submission.completed");
  t.ok(!Number.isNaN(Date.parse(payload.timestamp)));
  const stored = await request(app.server).get(`/v1/submissions/${id}`);
  t.same(payload.data, stored.body, "data is the feedback in the submission's format (xqueue here)");
  t.same(Object.keys(stored.body).sort(), ["correct", "msg", "score"], "a platform format keeps its shape, without the webhook's state");
  t.throws(() => new Webhook(`whsec_${randomBytes(24).toString("base64")}`).verify(delivery?.body ?? "", delivery?.headers as Record<string, string>), "another secret does not verify");
  t.throws(() => new Webhook(secret).verify(`${delivery?.body} `, delivery?.headers as Record<string, string>), "a changed body does not verify");
});

t.test("a receiver that fails twice and then answers 200 gets the event three times, with one webhook-id", async (t) => {
  const id = await submitWithCallback("/flaky/three");
  const body = await until(id, (b) => b.webhook?.state === "delivered");
  t.match(body.webhook, { state: "delivered", attempts: 3, lastStatus: 200 });
  const deliveries = hits("/flaky/three");
  t.equal(deliveries.length, 3);
  t.equal(new Set(deliveries.map((d) => d.headers["webhook-id"])).size, 1, "one webhook-id on every retry");
  t.equal(new Set(deliveries.map((d) => d.body)).size, 1, "the same body on every retry");
  for (const d of deliveries) t.ok(new Webhook(secret).verify(d.body, d.headers as Record<string, string>), "every attempt is signed");
});

t.test("a receiver that never answers runs into WEBHOOK_TIMEOUT_MS and is retried later", async (t) => {
  const started = Date.now();
  const id = await submitWithCallback("/silent/one");
  const body = await until(id, (b) => (b.webhook?.attempts ?? 0) >= 1);
  t.match(body.webhook, { state: "pending", lastStatus: null });
  t.type(body.webhook?.nextAttemptAt, "string", "the next attempt is scheduled");
  t.ok(Date.now() - started >= TIMEOUT_MS, "the attempt lasted until the timeout");
  t.ok(hits("/silent/one").length >= 1, "the receiver got the request");
});

t.test("a 410 stops the retries", async (t) => {
  const id = await submitWithCallback("/gone/one");
  const body = await until(id, (b) => b.webhook?.state === "gave_up");
  t.match(body.webhook, { state: "gave_up", attempts: 1, lastStatus: 410, nextAttemptAt: null });
  await new Promise((r) => setTimeout(r, 500));
  t.equal(hits("/gone/one").length, 1, "no retry after 410, even past the retry delays");
});

t.test("a redirect is not followed: it is a failed attempt", async (t) => {
  const id = await submitWithCallback("/redirect/one");
  const body = await until(id, (b) => (b.webhook?.attempts ?? 0) >= 1);
  t.match(body.webhook, { state: "pending", lastStatus: 302 });
  t.equal(hits("/ok/after-redirect").length, 0);
});

t.test("a receiver's long answer is not read past 4 KiB and still counts as delivered", async (t) => {
  const id = await submitWithCallback("/big/one");
  const body = await until(id, (b) => b.webhook?.state === "delivered");
  t.match(body.webhook, { state: "delivered", lastStatus: 200 });
});

t.test("a callback to a host not in CALLBACK_HOSTS, or not over http(s), is refused with 400 callback_not_allowed", async (t) => {
  for (const url of [`http://127.0.0.2:${port}/ok`, `http://localhost:${port}/ok`, "http://169.254.169.254/latest/meta-data", `file:///etc/passwd`, `http://user:pw@127.0.0.1:${port}/ok`, "not a url"]) {
    const response = await request(app.server).post("/v1/submissions").set("prefer", "respond-async").send({ assignment: "gradient-checking", source, callbackUrl: url });
    t.equal(response.status, 400, url);
    t.equal(response.body.error.code, "callback_not_allowed", url);
  }
  t.equal((await request(app.server).get("/v1/submissions?limit=200")).body.items.length, 6, "nothing refused was stored");
});

t.test("without WEBHOOK_SECRET a callbackUrl is refused with 400 webhooks_disabled", async (t) => {
  const plain = await buildApp({ ...fastLimits, WORKERS: "1", CALLBACK_HOSTS: `127.0.0.1:${port}`, ASYNC_QUEUE_MAX: "0" });
  t.teardown(() => plain.close());
  const response = await request(plain.server).post("/v1/submissions").send({ assignment: "gradient-checking", source, callbackUrl: `${base}/ok` });
  t.equal(response.status, 400);
  t.equal(response.body.error.code, "webhooks_disabled");

  t.test("and past ASYNC_QUEUE_MAX (0 here) an async submission is refused with 503 queue_full, while sync ones are graded", async (t) => {
    const refused = await request(plain.server).post("/v1/submissions").set("prefer", "respond-async").send({ assignment: "gradient-checking", source });
    t.equal(refused.status, 503);
    t.equal(refused.body.error.code, "queue_full");
    t.match(refused.headers["retry-after"], /^[1-9]\d*$/);
    const sync = await request(plain.server).post("/v1/submissions").send({ assignment: "gradient-checking", source });
    t.equal(sync.status, 200);
    t.equal((await request(plain.server).get("/v1/submissions")).body.items.length, 1, "the refused one was not stored");
  });
});
