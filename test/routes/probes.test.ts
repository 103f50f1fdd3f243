import t from "tap";
import Fastify from "fastify";
import request from "supertest";
import { app as gradebox, serverOptions } from "../../src/app.js";
import { SqliteKeyStore } from "../../src/auth/sqlite-keys.js";
import { Drain } from "../../src/drain.js";
import { testConfig } from "../helpers/app.js";

// Issue 14: /health/live and /health/ready for load balancers and Kubernetes probes.

const config = testConfig({ WORKERS: "1" });
const drain = new Drain();
const server = Fastify(serverOptions(config));
await server.register(gradebox, { config, drain });
await server.ready();
t.teardown(() => server.close());

t.test("/health/live answers while the process does", async (t) => {
  const live = await request(server.server).get("/health/live");
  t.equal(live.status, 200);
  t.same(live.body, { status: "live" });
});

t.test("/health/ready is 200 with every check passing: not draining, packs loaded and self-tested, a worker ready, the store answering", async (t) => {
  const ready = await request(server.server).get("/health/ready");
  t.equal(ready.status, 200);
  t.same(ready.body, { status: "ready", checks: { drain: { ok: true }, packs: { ok: true }, workers: { ok: true }, store: { ok: true } } });
});

t.test("/health/ready turns 503 with the reason once the drain starts, while /health/live and /health stay as they are", async (t) => {
  await drain.drain(0, () => undefined);
  const ready = await request(server.server).get("/health/ready");
  t.equal(ready.status, 503);
  t.same(ready.body.checks.drain, { ok: false, reason: "the service is shutting down" });
  t.equal(ready.body.status, "not_ready");
  t.equal((await request(server.server).get("/health/live")).status, 200);
  t.equal((await request(server.server).get("/health")).body.status, "ok");
});

t.test("/health/ready turns 503 when the store stops answering", async (t) => {
  const otherConfig = testConfig({ WORKERS: "1" });
  const keys = new SqliteKeyStore(otherConfig.dataDir);
  const other = Fastify(serverOptions(otherConfig));
  await other.register(gradebox, { config: otherConfig, keys });
  await other.ready();
  t.teardown(() => other.close());
  t.equal((await request(other.server).get("/health/ready")).status, 200);
  // The database goes away under the running service, as with a lost disk.
  keys.close();
  const ready = await request(other.server).get("/health/ready");
  t.equal(ready.status, 503);
  t.equal(ready.body.checks.store.ok, false);
  t.match(ready.body.checks.store.reason, /not open/);
});
