import t from "tap";
import pg from "pg";
import { migrate, openPostgresStore } from "../../src/store/postgres/index.js";
import { Database } from "../../src/store/postgres/database.js";
import { migrations } from "../../src/store/postgres/migrations/index.js";
import { migrations as sqliteMigrations } from "../../src/store/sqlite/migrations/index.js";
import { postgresForTests } from "../helpers/postgres.js";
import { storeSuite, submission } from "./suite.js";

const EXHAUSTED = { code: "grading_failed", message: "stopped too often" };
const LEASE = 60_000;

const cluster = await postgresForTests(t);
if (cluster !== undefined) {
  const openFresh = async () => openPostgresStore({ url: await cluster.createDatabase(), poolMax: 4 });

  t.test("the shared store suite, on PostgreSQL", async (t) => storeSuite(t, openFresh, {
    shared: true,
    // Two nodes on one database.
    pair: async () => {
      const url = await cluster.createDatabase();
      const [a, b] = await Promise.all([1, 2].map(() => openPostgresStore({ url, poolMax: 2, isolated: true })));
      return [a!, b!];
    },
  }));

  t.test("migrations are numbered like SQLite's, applied once at open (by one node at a time), and recorded", async (t) => {
    t.same(migrations.map((m) => m.version), sqliteMigrations.map((m) => m.version), "the same versions as the SQLite engine");
    const url = await cluster.createDatabase();
    // Three nodes opening a new database at once: the migrations run once.
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore({ url, poolMax: 2, isolated: true })));
    t.teardown(() => Promise.all(stores.map((s) => s.close())));
    const versions = migrations.map((m) => m.version);
    for (const store of stores) t.same(await store.migrations(), versions);
    const db = new Database({ url, poolMax: 1 });
    t.teardown(() => db.close());
    t.same((await db.query({ text: "SELECT version, name FROM schema_migrations ORDER BY version" })).rows, migrations.map((m) => ({ version: m.version, name: m.name })));
    const next = versions.length + 1;
    t.same(await migrate(db, [...migrations, { version: next, name: "test", sql: "CREATE TABLE later (x INTEGER)" }]), [...versions, next], "a new migration is applied on top");
    await t.rejects(migrate(db, [...migrations, { version: next + 1, name: "broken", sql: "NOT SQL" }]));
    t.same(await migrate(db), [...versions, next], "a failing migration leaves nothing behind");
  });

  t.test("concurrent claims from several nodes take each queued submission exactly once", async (t) => {
    const url = await cluster.createDatabase();
    const nodes = await Promise.all([1, 2, 3].map(() => openPostgresStore({ url, poolMax: 4, isolated: true })));
    t.teardown(() => Promise.all(nodes.map((s) => s.close())));
    const ids = [];
    for (let i = 0; i < 120; i++) {
      const s = submission();
      ids.push(s.id);
      await (nodes[i % 3])!.create(s, LEASE);
    }
    const claimedBy = new Map<string, number>();
    // Twelve claimers (four per node) claim until the queue is empty.
    await Promise.all(Array.from({ length: 12 }, async (_, claimer) => {
      const node = nodes[claimer % 3]!;
      for (;;) {
        const { claimed } = await node.claimNext(Date.now(), LEASE, 3, EXHAUSTED);
        if (claimed === undefined) return;
        claimedBy.set(claimed.id, (claimedBy.get(claimed.id) ?? 0) + 1);
      }
    }));
    t.equal(claimedBy.size, ids.length, "every submission was claimed");
    t.ok([...claimedBy.values()].every((n) => n === 1), "none twice");
    t.equal(await nodes[0]!.countQueued(), 0);
  });

  t.test("two nodes racing to finish the same submission store exactly one result", async (t) => {
    const url = await cluster.createDatabase();
    const [a, b] = await Promise.all([1, 2].map(() => openPostgresStore({ url, poolMax: 2, isolated: true })));
    t.teardown(() => Promise.all([a!.close(), b!.close()]));
    let wins = 0;
    for (let i = 0; i < 20; i++) {
      const s = submission({ callbackUrl: "http://127.0.0.1:1/x" });
      await a!.create(s, LEASE);
      await a!.claimNext(Date.now(), LEASE, 3, EXHAUSTED);
      const feedback = (score: number) => ({ id: s.id, assignment: "a", assignmentVersion: "v", language: "javascript", status: "graded", summary: "", score, maxScore: 1, exercises: [], output: "", outputTruncated: false, durationMs: 1 }) as never;
      const results = await Promise.all([
        a!.finish(s.id, { status: "graded", feedback: feedback(1) }, Date.now(), "evt-a"),
        b!.finish(s.id, { status: "graded", feedback: feedback(0) }, Date.now(), "evt-b"),
      ]);
      const won = results.filter((r) => r !== undefined);
      t.equal(won.length, 1, `submission ${i}: one finish wins, the other gets nothing`);
      const stored = await a!.get(s.id);
      t.equal(stored?.score, won[0]?.score, "the stored result is the winner's");
      t.equal(stored?.webhook?.eventId, won[0]?.webhook?.eventId, "and so is its one webhook event");
      wins += won.length;
    }
    t.equal(wins, 20);
  });

  t.test("an idempotency key replayed on another node at the same moment gives the same submission", async (t) => {
    const url = await cluster.createDatabase();
    const nodes = await Promise.all([1, 2, 3].map(() => openPostgresStore({ url, poolMax: 2, isolated: true })));
    t.teardown(() => Promise.all(nodes.map((s) => s.close())));
    for (let round = 0; round < 10; round++) {
      const key = `key-${round}`;
      const results = await Promise.all(nodes.map((node) => node.create(submission({ idempotencyKey: key, requestHash: "h", receivedAt: Date.now() }), 86_400_000)));
      t.same(results.map((r) => r.kind).sort(), ["created", "replayed", "replayed"], `round ${round}: one created, two replayed`);
      t.equal(new Set(results.map((r) => r.record.id)).size, 1, "all three name the same submission");
    }
  });

  t.test("an unreachable database is reported, not thrown at the process", async (t) => {
    // A port nothing listens on: every call fails with store_unavailable, and unavailable() says why.
    const db = new Database({ url: "postgres://postgres@127.0.0.1:1/none", poolMax: 1 });
    t.teardown(() => db.close());
    await t.rejects(db.query({ text: "SELECT 1" }), { name: "StoreUnavailableError" });
    t.match(db.unavailable(), /unreachable/);
    await t.rejects(db.query({ text: "SELECT 1" }), { name: "StoreUnavailableError" }, "while down, calls fail at once");
    t.ok(db.retryAfterS() >= 1);
  });

  t.test("BIGINT timestamps come back as numbers", async (t) => {
    const client = new pg.Client({ connectionString: cluster.url() });
    await client.connect();
    t.teardown(() => client.end());
    const store = await openFresh();
    t.teardown(() => store.close());
    const s = submission({ receivedAt: 1_800_000_000_123 });
    await store.create(s, LEASE);
    t.equal((await store.get(s.id))?.receivedAt, 1_800_000_000_123);
    t.equal(typeof (await store.countQueued()), "number");
  });
}
