import t from "tap";
import Fastify, { type FastifyError } from "fastify";
import { connect } from "node:net";
import request from "supertest";
import { app as gradebox, serverOptions, toApiError } from "../src/app.js";
import { SqliteKeyStore } from "../src/auth/sqlite-keys.js";
import { Drain } from "../src/drain.js";
import { apiError, errorCatalog, type ApiError, type ErrorCode } from "../src/errors.js";
import { poolErrorToApi } from "../src/plugins/sandbox.js";
import { checkCallbackUrl } from "../src/submissions/intake.js";
import { PoolError } from "../src/sandbox/pool.js";
import { schemas, validator } from "../src/schemas.js";
import { testConfig } from "./helpers/app.js";
import { fixture, readRepoFile } from "./helpers/files.js";

t.test("every error code the API can answer is documented, in the error schema and in the README", async (t) => {
  const schemaText = JSON.stringify(schemas.error);
  const readme = readRepoFile("README.md");
  for (const [code, { status }] of Object.entries(errorCatalog)) {
    t.ok(schemaText.includes(code), `${code} is listed in error.schema.json`);
    t.ok(readme.includes(`\`${code}\``), `${code} is in the README's error table`);
    t.ok(status >= 400 && status < 600, `${code} has an error status`);
  }
});

// Issue 14: walk the whole catalog. Each code is provoked the way a client would meet it, on a real
// app, and must come back with its status and the {error: {code, message}} body. A code added to the
// catalog without a way to provoke it here fails this test.

const ADMIN_TOKEN = "walk-admin";
// BUDGETS=off: the slow fixture's 300 ms of top-level work must hold the worker, past any budget learnt from the reference.
const config = testConfig({ BUDGETS: "off", WORKERS: "1", QUEUE_LENGTH: "0", SOURCE_KIB: "4", REQUEST_KIB: "16", ADMIN_TOKEN, WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CALLBACK_HOSTS: "hooks.example.edu" });
const drain = new Drain();
const server = Fastify(serverOptions(config));
await server.register(gradebox, { config, drain });
await server.ready();
t.teardown(() => server.close());
const http = () => request(server.server);
const correct = fixture("gradient-checking/correct-own-loops.mjs");
const slow = fixture("slow/correct-after-300ms.mjs");
const submission = { assignment: "gradient-checking", source: correct };

/** A raw request with headers over Node's limit: the parser refuses it before fastify has a request. */
async function headerOverflow(): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
  await new Promise<void>((resolve) => server.server.listening ? resolve() : server.server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.server.address() as { port: number };
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    socket.on("data", (chunk) => { received += chunk.toString(); });
    socket.on("close", () => resolve(received));
    socket.on("error", (error) => (received === "" ? reject(error) : resolve(received)));
    socket.write(`GET /v1/assignments HTTP/1.1\r\nHost: x\r\nX-Padding: ${"a".repeat(20 * 1024)}\r\n\r\n`);
  });
  const [head = "", body = ""] = text.split("\r\n\r\n");
  const [statusLine = "", ...headerLines] = head.split("\r\n");
  const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
  return { status: Number(statusLine.split(" ")[1]), headers, body: JSON.parse(body) };
}

type Answer = { status: number; headers: Record<string, string>; body: unknown };
const asAnswer = (r: request.Response): Answer => ({ status: r.status, headers: r.headers as Record<string, string>, body: r.body });

/** How to provoke each code from outside, in order (the last ones create keys, which close the service). */
const provoke: Record<ErrorCode, (() => Promise<Answer>) | { unreachable: string; error: () => ApiError }> = {
  invalid_request: async () => asAnswer(await http().post("/v1/submissions").send({ source: correct })),
  invalid_json: async () => asAnswer(await http().post("/v1/submissions").set("content-type", "application/json").send('{"assignment": ')),
  limit_too_high: async () => asAnswer(await http().post("/v1/submissions").send({ ...submission, limits: { callTimeoutMs: 60000 } })),
  unknown_exercise: async () => asAnswer(await http().post("/v1/submissions").send({ ...submission, exercises: ["no_such_exercise"] })),
  idempotency_key_mismatch: async () => asAnswer(await http().post("/v1/submissions").set("idempotency-key", "a").send({ ...submission, submissionId: "b" })),
  unsupported_media_type: async () => asAnswer(await http().post("/v1/submissions").set("content-type", "text/plain").send("hello")),
  request_too_large: async () => asAnswer(await http().post("/v1/submissions").send({ ...submission, metadata: { padding: "x".repeat(20 * 1024) } })),
  source_too_large: async () => asAnswer(await http().post("/v1/submissions").send({ ...submission, source: `${correct}\n//${"x".repeat(5 * 1024)}` })),
  unauthorized: async () => asAnswer(await http().put("/v1/assignments/gradient-checking").send({ files: {} })),
  assignment_not_found: async () => asAnswer(await http().get("/v1/assignments/no-such-assignment")),
  route_not_found: async () => asAnswer(await http().get("/no/such/route")),
  bad_url: async () => asAnswer(await http().get("/v1/assignments/%C0%AE")),
  uri_too_long: async () => asAnswer(await http().get(`/v1/assignments/${"a".repeat(10_000)}`)),
  submission_not_found: async () => asAnswer(await http().get("/v1/submissions/00000000-0000-4000-8000-000000000000")),
  regrade_not_found: async () => asAnswer(await http().get("/v1/regrades/00000000-0000-4000-8000-000000000000").set("authorization", `Bearer ${ADMIN_TOKEN}`)),
  callback_not_allowed: async () => asAnswer(await http().post("/v1/submissions").send({ ...submission, callbackUrl: "http://169.254.169.254/latest/meta-data" })),
  webhooks_disabled: {
    unreachable: "only on a service without WEBHOOK_SECRET (this walk's app has one, to reach callback_not_allowed)",
    error: () => {
      try {
        checkCallbackUrl("http://hooks.example.edu/gradebox", { webhookSecret: "", callbackHosts: ["hooks.example.edu"] });
      } catch (error) {
        return error as ApiError;
      }
      throw new Error("a callbackUrl was accepted without a webhook secret");
    },
  },
  grading_failed: {
    unreachable: "only inside a failed submission's record, after MAX_ATTEMPTS starts that never finished (test/submissions/crash-safety.test.ts)",
    error: () => apiError("grading_failed", "the service stopped 3 times while grading it"),
  },
  method_not_allowed: async () => asAnswer(await http().delete("/v1/assignments/gradient-checking")),
  idempotency_conflict: async () => {
    await http().post("/v1/submissions").set("idempotency-key", "walk").send(submission);
    return asAnswer(await http().post("/v1/submissions").set("idempotency-key", "walk").send({ ...submission, source: `${correct}\n` }));
  },
  invalid_pack: async () => asAnswer(await http().put("/v1/assignments/walk-pack").set("authorization", `Bearer ${ADMIN_TOKEN}`).send({ files: { "assignment.json": "{}" } })),
  header_too_large: headerOverflow,
  queue_full: async () => {
    // One worker and QUEUE_LENGTH=0: while a slow grading holds the worker, the next is refused.
    const first = http().post("/v1/submissions").send({ ...submission, source: slow }).then((r) => r);
    await new Promise((r) => setTimeout(r, 100));
    const refused = asAnswer(await http().post("/v1/submissions").send(submission));
    await first;
    return refused;
  },
  sandbox_unavailable: {
    unreachable: "only when no grading worker can be started at all",
    error: () => poolErrorToApi(new PoolError("unavailable", "grading workers cannot be started")) as ApiError,
  },
  internal_error: {
    unreachable: "only on a bug in the service",
    error: () => toApiError(Object.assign(new Error("a bug"), { code: "ERR_A_BUG" }) as FastifyError, 1),
  },
  forbidden: async () => {
    const keys = new SqliteKeyStore(config.dataDir);
    const reader = keys.create({ name: "walk-reader", scopes: ["read"] });
    keys.close();
    return asAnswer(await http().post("/v1/submissions").set("authorization", `Bearer ${reader.secret}`).send(submission));
  },
  rate_limited: async () => {
    const keys = new SqliteKeyStore(config.dataDir);
    const stingy = keys.create({ name: "walk-stingy", scopes: ["read"], rateLimitPerMin: 1 });
    keys.close();
    await http().get("/v1/assignments").set("authorization", `Bearer ${stingy.secret}`);
    return asAnswer(await http().get("/v1/assignments").set("authorization", `Bearer ${stingy.secret}`));
  },
  shutting_down: async () => {
    await drain.drain(0, () => undefined);
    return asAnswer(await http().post("/v1/submissions").set("authorization", `Bearer ${ADMIN_TOKEN}`).send(submission));
  },
};

const isError = validator(schemas.error);
const expectedHeaders: Partial<Record<ErrorCode, string[]>> = {
  method_not_allowed: ["allow"],
  rate_limited: ["retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"],
  queue_full: ["retry-after"],
  shutting_down: ["retry-after"],
};

t.test("every code in the catalog is answered with its status and the {error: {code, message}} body", async (t) => {
  t.same(Object.keys(provoke).sort(), Object.keys(errorCatalog).sort(), "the walk has a way to provoke every code");
  for (const [code, how] of Object.entries(provoke) as Array<[ErrorCode, (typeof provoke)[ErrorCode]]>) {
    if (typeof how !== "function") {
      const error = how.error();
      t.equal(error.code, code, `${code}: ${how.unreachable}; it is built with its catalog status`);
      t.equal(error.statusCode, errorCatalog[code].status);
      continue;
    }
    const answer = await how();
    t.equal(answer.status, errorCatalog[code].status, `${code} answers ${errorCatalog[code].status}`);
    t.equal((answer.body as { error?: { code?: string } }).error?.code, code, `${code} is the code in the body`);
    t.ok(isError(answer.body), `${code}'s body matches error.schema.json`);
    for (const header of expectedHeaders[code] ?? []) t.ok(answer.headers[header] !== undefined, `${code} has ${header}`);
  }
});

t.test("405 lists the methods the path accepts", async (t) => {
  // After the walk keys exist: the admin token still opens every route.
  const wrong = await http().post("/v1/assignments/gradient-checking/starter").set("authorization", `Bearer ${ADMIN_TOKEN}`);
  t.equal(wrong.status, 405);
  t.equal(wrong.headers.allow, "GET, HEAD");
});
