import t from "tap";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { buildApp, root } from "../helpers/app.js";
import { packFile, packMutant, readRepoFile } from "../helpers/files.js";
import { deadUrl } from "../integrations/support.js";
import { loadXqueueConfig, xqueueSettings, type XqueueConfig } from "../../src/xqueue/config.js";
import { GradeboxDown, XqueueConnector } from "../../src/xqueue/connector.js";
import { XqueueDown } from "../../src/xqueue/xqueue-client.js";
import { FakeXqueue } from "./fake-xqueue.js";

const app = await buildApp();
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
if (address === null || typeof address === "string") throw new Error("not listening");
const gradebox = `http://127.0.0.1:${address.port}`;
t.teardown(() => app.close());

const reference = packFile("reference/solution.mjs");
const failsOnlyHidden = packMutant("hardcoded-gradient-check-n");
const silent = pino({ level: "silent" });

async function setUp(t: { teardown: (fn: () => unknown) => void }, env: Record<string, string> = {}, delayMs = 60_000) {
  const xqueue = new FakeXqueue({ grader: "s3cret" }, ["js-gradebox", "other"], delayMs);
  await xqueue.start();
  const dir = mkdtempSync(path.join(os.tmpdir(), "gradebox-xqueue-"));
  t.teardown(async () => {
    await xqueue.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = (more: Record<string, string> = {}): XqueueConfig => loadXqueueConfig({
    XQUEUE_URL: xqueue.url,
    XQUEUE_QUEUE: "js-gradebox",
    XQUEUE_USERNAME: "grader",
    XQUEUE_PASSWORD: "s3cret",
    XQUEUE_ASSIGNMENTS: JSON.stringify({ gc: "gradient-checking", '{"problem": "act"}': "activations" }),
    XQUEUE_SPOOL: path.join(dir, "spool.sqlite"),
    XQUEUE_POLL_MS: "20",
    XQUEUE_BACKOFF_MAX_MS: "200",
    GRADEBOX_URL: gradebox,
    ...env,
    ...more,
  });
  const connectors: XqueueConnector[] = [];
  const connect = (more: Record<string, string> = {}) => {
    const connector = new XqueueConnector(config(more), silent);
    connectors.push(connector);
    return connector;
  };
  t.teardown(() => connectors.forEach((c) => c.close()));
  return { xqueue, connect, dir };
}

type Reply = { correct: boolean; score: number; msg: string };
const replyOf = (s: { graderReply: string | null }) => JSON.parse(s.graderReply ?? "null") as Reply;

t.test("a submission is pulled, graded by gradebox and its result posted with the header echoed; the LMS accepts it", async (t) => {
  const { xqueue, connect } = await setUp(t);
  const good = xqueue.submit("js-gradebox", reference, "gc");
  const partial = xqueue.submit("js-gradebox", failsOnlyHidden, "gc");
  const connector = connect();
  await connector.xqueue.login();
  t.equal(await connector.step(), "worked");
  t.equal(await connector.step(), "worked");
  t.equal(await connector.step(), "idle", "then the queue is empty");
  t.same(replyOf(good).correct, true);
  t.equal(replyOf(good).score, 1);
  t.equal(replyOf(partial).correct, false);
  t.equal(replyOf(partial).score, 0.75);
  t.match(replyOf(partial).msg, /^<div class="gradebox-feedback">/);
  for (const s of [good, partial]) {
    t.ok(s.lmsAck, "the LMS's parser accepts the reply");
    t.ok(s.retired, "XQueue retires the submission");
    t.equal(s.puts, 1, "one result per submission");
  }
  t.same(connector.spool.pending(), [], "nothing is left in the spool");
});

t.test("grader_payload picks the assignment; a payload the map does not name gets a configuration message, not silence", async (t) => {
  const { xqueue, connect } = await setUp(t);
  const act = xqueue.submit("js-gradebox", packFile("reference/solution.mjs", "activations"), '{"problem": "act"}');
  const unknown = xqueue.submit("js-gradebox", reference, "nope");
  const connector = connect();
  await connector.xqueue.login();
  await connector.step();
  await connector.step();
  t.equal(replyOf(act).score, 1, "graded against activations");
  t.equal(replyOf(unknown).score, 0);
  t.match(replyOf(unknown).msg, /not set up for grading \(no assignment for grader_payload &quot;nope&quot;\)/);
  t.ok(unknown.lmsAck);
  const fallback = xqueue.submit("js-gradebox", reference, "nope");
  const withDefault = connect({ XQUEUE_DEFAULT_ASSIGNMENT: "gradient-checking" });
  await withDefault.xqueue.login();
  await withDefault.step();
  t.equal(replyOf(fallback).score, 1, "XQUEUE_DEFAULT_ASSIGNMENT serves other payloads");
});

t.test("a student's U+FFFF or <script> in output reaches the LMS as a reply it accepts", async (t) => {
  const { xqueue, connect } = await setUp(t);
  const source = reference.replace("export function forward_propagation(x, theta) {", 'export function forward_propagation(x, theta) {\n  console.log("\\uFFFF<script>\\uFFFE");');
  t.not(source, reference);
  const s = xqueue.submit("js-gradebox", source, "gc");
  const connector = connect();
  await connector.xqueue.login();
  await connector.step();
  t.ok(s.lmsAck);
  t.match(replyOf(s).msg, /&lt;script&gt;/);
});

t.test("an expired session is renewed by logging in again", async (t) => {
  const { xqueue, connect } = await setUp(t);
  const connector = connect();
  await connector.xqueue.login();
  xqueue.expireSessions();
  const s = xqueue.submit("js-gradebox", reference, "gc");
  await connector.step();
  t.equal(xqueue.logins, 2);
  t.ok(s.retired);
});

t.test("wrong credentials are refused by XQueue's login and reported", async (t) => {
  const { connect } = await setUp(t);
  const connector = connect({ XQUEUE_PASSWORD: "wrong" });
  await t.rejects(connector.xqueue.login(), /Incorrect login credentials/);
});

t.test("a pulled submission survives gradebox being down and the connector restarting: it is graded once gradebox is back", async (t) => {
  const { xqueue, connect } = await setUp(t);
  const s = xqueue.submit("js-gradebox", failsOnlyHidden, "gc");
  const first = connect({ GRADEBOX_URL: await deadUrl() });
  await first.xqueue.login();
  await t.rejects(first.step(), GradeboxDown);
  t.equal(first.spool.pending().length, 1, "the pulled submission is in the spool");
  first.close();
  t.equal(await (async () => { const c = connect(); await c.xqueue.login(); return (await c.xqueue.queueLength("js-gradebox")); })(), 0, "XQueue does not hand it out again before its processing delay");
  const second = connect();
  await second.xqueue.login();
  t.equal(await second.step(), "worked", "the restarted connector resumes from the spool");
  t.ok(s.retired);
  t.equal(replyOf(s).score, 0.75);
  t.same(second.spool.pending(), []);
});

t.test("a graded result survives XQueue being down: the connector backs off and posts it when XQueue is back", async (t) => {
  const { xqueue, connect } = await setUp(t);
  const s = xqueue.submit("js-gradebox", reference, "gc");
  const connector = connect();
  await connector.xqueue.login();
  // Down right after the pull: the grading happens, put_result fails.
  const realPut = connector.xqueue.putResult.bind(connector.xqueue);
  connector.xqueue.putResult = async (header, reply) => {
    xqueue.down = true;
    return realPut(header, reply);
  };
  await t.rejects(connector.step(), XqueueDown);
  const [spooled] = connector.spool.pending();
  t.ok(spooled?.reply, "the reply is kept with the submission");
  connector.xqueue.putResult = realPut;
  const stop = new AbortController();
  const running = connector.run(stop.signal);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.ok(connector.failures >= 2, `the connector backed off (${connector.failures} failures so far)`);
  xqueue.down = false;
  for (let i = 0; i < 100 && !s.retired; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  stop.abort();
  await running;
  t.ok(s.retired, "the result was delivered once XQueue came back");
  t.equal(s.puts, 1);
  t.equal(connector.failures, 0, "the back-off resets after a success");
});

t.test("a result XQueue will never take (the submission was handed to another grader) is dropped instead of blocking the spool", async (t) => {
  const { xqueue, connect, dir } = await setUp(t, {}, 0);
  const s = xqueue.submit("js-gradebox", reference, "gc");
  const connector = connect({ GRADEBOX_URL: await deadUrl() });
  await connector.xqueue.login();
  await t.rejects(connector.step(), GradeboxDown);
  // With no processing delay, another grader pulls it and gets a new key.
  const other = connect({ XQUEUE_SPOOL: path.join(dir, "other-grader.sqlite") });
  await other.xqueue.login();
  await other.step();
  t.ok(s.retired, "the other grader's result was taken");
  const again = connect();
  await again.xqueue.login();
  await again.step();
  t.equal(s.puts, 1, "the stale key's result was refused");
  t.same(again.spool.pending(), [], "and dropped");
});

t.test("every setting of gradebox-xqueue is documented in integrations/openedx/README.md", async (t) => {
  const readme = readRepoFile("integrations", "openedx", "README.md");
  for (const name of Object.keys(xqueueSettings)) t.ok(readme.includes(`\`${name}\``), name);
  t.throws(() => loadXqueueConfig({}), /XQUEUE_QUEUE is required/);
  t.throws(() => loadXqueueConfig({ XQUEUE_QUEUE: "q", XQUEUE_ASSIGNMENTS: "[1]" }), /XQUEUE_ASSIGNMENTS/);
});

t.test("the gradebox-xqueue command grades a queue until it is stopped with SIGTERM", async (t) => {
  const { xqueue, dir } = await setUp(t);
  const s = xqueue.submit("js-gradebox", failsOnlyHidden, "gc");
  const child = spawn(process.execPath, [path.join(root, "dist", "src", "cli", "xqueue.js")], {
    env: {
      PATH: process.env.PATH ?? "",
      LOG_LEVEL: "silent",
      XQUEUE_URL: xqueue.url,
      XQUEUE_QUEUE: "js-gradebox",
      XQUEUE_USERNAME: "grader",
      XQUEUE_PASSWORD: "s3cret",
      XQUEUE_ASSIGNMENTS: JSON.stringify({ gc: "gradient-checking" }),
      XQUEUE_SPOOL: path.join(dir, "cli.sqlite"),
      XQUEUE_POLL_MS: "20",
      GRADEBOX_URL: gradebox,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  for (let i = 0; i < 600 && !s.retired; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  child.kill("SIGTERM");
  t.equal(await exited, 0, "it stops cleanly");
  t.ok(s.retired);
  t.equal(replyOf(s).score, 0.75);
});

t.test("the command refuses to start without a queue name", async (t) => {
  const child = spawn(process.execPath, [path.join(root, "dist", "src", "cli", "xqueue.js")], { env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  t.equal(code, 2);
  t.match(stderr, /XQUEUE_QUEUE is required/);
});
