import type { Test } from "tap";
import type { Feedback } from "../../src/grading/feedback.js";
import { InvalidCursorError, type NewRegrade, type NewSubmission, type StoreEvent, type SubmissionStore } from "../../src/store/store.js";

/**
 * The behaviour every store engine must have, run against each (sqlite.test.ts, postgres.test.ts).
 * `open` gives a fresh, empty store.
 */
export type StoreFactory = () => Promise<SubmissionStore>;

export interface EngineTraits {
  /**
   * Shared by several processes (PostgreSQL): recover() at one node's start must leave the others'
   * running work alone; expired leases are what make it claimable again. An engine only this process
   * uses (SQLite) takes back everything at start instead.
   */
  shared: boolean;
  /**
   * Two stores on one database, as two nodes (or processes) have; without it, one store twice (an
   * in-memory database is this process's only).
   */
  pair?: () => Promise<[SubmissionStore, SubmissionStore]>;
}

const DAY = 86_400_000;
const WINDOW = DAY;
const LEASE = 60_000;
const EXHAUSTED = { code: "grading_failed", message: "stopped too often" };

let counter = 0;
export function submission(overrides: Partial<NewSubmission> = {}): NewSubmission {
  counter++;
  return {
    id: `sub-${counter}-${Math.random().toString(16).slice(2)}`,
    assignment: "gradient-checking",
    assignmentVersion: "0123456789abcdef",
    language: "javascript",
    exercises: null,
    format: "native",
    source: `export const n = ${counter};`,
    sourceSha256: "a".repeat(64),
    student: null,
    metadata: { attempt: counter },
    limits: null,
    idempotencyKey: null,
    requestHash: null,
    clientId: null,
    callbackUrl: null,
    mode: "async",
    receivedAt: 1_700_000_000_000 + counter,
    ...overrides,
  };
}

function feedback(id: string, score: number, status: "graded" | "rejected" = "graded"): Feedback {
  return {
    id, assignment: "gradient-checking", assignmentVersion: "fedcba9876543210", language: "javascript", status,
    summary: "s", score, maxScore: 100, exercises: [], output: "", outputTruncated: false, durationMs: 3,
  } as Feedback;
}

/** Collects a store's events; `until` resolves once one matches (events of a server engine arrive later). */
function listen(store: SubmissionStore) {
  const seen: StoreEvent[] = [];
  const waiters: Array<{ match: (e: StoreEvent) => boolean; resolve: () => void }> = [];
  const stop = store.subscribe((event) => {
    seen.push(event);
    for (const w of waiters.filter((w) => w.match(event))) w.resolve();
  });
  return {
    seen,
    stop,
    until(match: (e: StoreEvent) => boolean, what: string): Promise<void> {
      if (seen.some(match)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no event: ${what}`)), 10_000);
        waiters.push({ match, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    },
  };
}

export function storeSuite(t: Test, open: StoreFactory, traits: EngineTraits = { shared: false }): void {
  const fresh = async (t: Test) => {
    const store = await open();
    t.teardown(() => store.close());
    return store;
  };

  t.test("a new submission is stored queued, with every field, and read back by id", async (t) => {
    const store = await fresh(t);
    const input = submission({ student: "s-1", exercises: ["forward_propagation"], limits: { callTimeoutMs: 100 }, clientId: "c1", callbackUrl: "http://127.0.0.1:1/x" });
    const created = await store.create(input, WINDOW);
    t.equal(created.kind, "created");
    const record = await store.get(input.id);
    t.match(record, { ...input, status: "queued", attempts: 0, feedback: null, error: null, startedAt: null, finishedAt: null, webhook: null, sourceBlanked: false });
    t.same(record?.metadata, input.metadata);
    t.equal(await store.get("nope"), undefined, "an unknown id is undefined");
    t.ok(await store.get(input.id, "c1"), "its client reads it");
    t.equal(await store.get(input.id, "c2"), undefined, "another client does not");
  });

  t.test("sync: queued -> running (one attempt) -> graded, and each step happens once", async (t) => {
    const store = await fresh(t);
    const input = submission({ mode: "sync" });
    await store.create(input, WINDOW);
    const running = await store.start(input.id, 5, LEASE);
    t.match(running, { status: "running", attempts: 1, startedAt: 5 });
    t.equal(await store.start(input.id, 6, LEASE), undefined, "a running submission cannot start again");
    const graded = await store.finish(input.id, { status: "graded", feedback: feedback(input.id, 75) }, 9, null);
    t.match(graded, { status: "graded", score: 75, maxScore: 100, finishedAt: 9, assignmentVersion: "fedcba9876543210", webhook: null });
    t.equal(graded?.feedback?.score, 75);
    t.equal(await store.finish(input.id, { status: "graded", feedback: feedback(input.id, 0) }, 10, null), undefined, "a finished submission cannot finish again");
    t.equal((await store.get(input.id))?.score, 75);
  });

  t.test("rejected and failed are final states too; a failure keeps its error", async (t) => {
    const store = await fresh(t);
    const a = submission({ mode: "sync" });
    const b = submission({ mode: "sync" });
    await store.create(a, WINDOW);
    await store.create(b, WINDOW);
    await store.start(a.id, 1, LEASE);
    await store.start(b.id, 1, LEASE);
    t.match(await store.finish(a.id, { status: "rejected", feedback: feedback(a.id, 0, "rejected") }, 2, null), { status: "rejected", score: 0 });
    t.match(await store.finish(b.id, { status: "failed", error: { code: "sandbox_unavailable", message: "down" } }, 2, null), {
      status: "failed", feedback: null, score: null, error: { code: "sandbox_unavailable", message: "down" },
    });
    t.equal(await store.start(b.id, 3, LEASE), undefined);
  });

  t.test("the background lane: async submissions are claimed oldest first, sync ones never", async (t) => {
    const store = await fresh(t);
    const sync = submission({ mode: "sync" });
    const first = submission();
    const second = submission();
    for (const s of [sync, first, second]) await store.create(s, WINDOW);
    t.equal(await store.countQueued(), 2);
    t.equal((await store.claimNext(10, LEASE, 3, EXHAUSTED)).claimed?.id, first.id);
    const next = await store.claimNext(10, LEASE, 3, EXHAUSTED);
    t.match(next.claimed, { id: second.id, status: "running", attempts: 1, startedAt: 10 });
    t.same(await store.claimNext(10, LEASE, 3, EXHAUSTED), { failed: [] }, "nothing left to claim");
    t.equal(await store.countQueued(), 0, "running ones are no longer queued");
  });

  t.test("a released submission is queued again, and past MAX_ATTEMPTS it fails instead of being claimed", async (t) => {
    const store = await fresh(t);
    const input = submission({ callbackUrl: "http://127.0.0.1:1/x" });
    await store.create(input, WINDOW);
    for (let attempt = 1; attempt <= 2; attempt++) {
      t.equal((await store.claimNext(attempt, LEASE, 2, EXHAUSTED)).claimed?.attempts, attempt);
      await store.release(input.id);
      t.equal((await store.get(input.id))?.status, "queued");
    }
    const result = await store.claimNext(3, LEASE, 2, EXHAUSTED);
    t.equal(result.claimed, undefined);
    t.equal(result.failed.length, 1);
    t.match(result.failed[0], { id: input.id, status: "failed", error: EXHAUSTED, attempts: 2, webhook: { state: "pending", attempts: 0, nextAttemptAt: 3 } });
    t.equal(await store.countQueued(), 0);
  });

  t.test("a running submission whose lease expired is claimed again", async (t) => {
    const store = await fresh(t);
    const input = submission();
    await store.create(input, WINDOW);
    await store.claimNext(0, 100, 3, EXHAUSTED);
    t.same(await store.claimNext(50, 100, 3, EXHAUSTED), { failed: [] }, "not while the lease holds");
    t.match((await store.claimNext(101, 100, 3, EXHAUSTED)).claimed, { id: input.id, attempts: 2 });
  });

  if (traits.shared) {
    t.test("recovery at one node's start leaves other nodes' running work alone; what a dead node held is claimed when its lease runs out", async (t) => {
      const store = await fresh(t);
      const queued = submission();
      const running = submission();
      for (const s of [running, queued]) await store.create(s, WINDOW);
      const now = Date.now();
      t.equal((await store.claimNext(now, LEASE, 3, EXHAUSTED)).claimed?.id, running.id);
      t.equal(await store.recover(), 0, "nothing is reset");
      t.match(await store.get(running.id), { status: "running", attempts: 1 }, "another node's running submission is untouched");
      t.equal((await store.claimNext(now + 1, LEASE, 3, EXHAUSTED)).claimed?.id, queued.id);
      t.same(await store.claimNext(now + 2, LEASE, 3, EXHAUSTED), { failed: [] }, "nothing while the lease holds");
      t.match((await store.claimNext(now + LEASE + 1, LEASE, 3, EXHAUSTED)).claimed, { id: running.id, attempts: 2 }, "claimed again once its lease ran out");
    });
  }

  if (!traits.shared) t.test("recovery at start puts every queued or running submission, sync ones included, in the background lane", async (t) => {
    const store = await fresh(t);
    const syncQueued = submission({ mode: "sync" });
    const syncRunning = submission({ mode: "sync" });
    const asyncRunning = submission();
    const done = submission({ mode: "sync" });
    for (const s of [syncQueued, syncRunning, asyncRunning, done]) await store.create(s, WINDOW);
    await store.start(syncRunning.id, 1, LEASE);
    await store.claimNext(1, LEASE, 3, EXHAUSTED);
    await store.start(done.id, 1, LEASE);
    await store.finish(done.id, { status: "graded", feedback: feedback(done.id, 100) }, 2, null);
    t.equal(await store.recover(), 3);
    t.equal(await store.countQueued(), 3);
    const claimed = [];
    for (let i = 0; i < 3; i++) claimed.push((await store.claimNext(5, LEASE, 3, EXHAUSTED)).claimed);
    t.same(claimed.map((r) => r?.id), [syncQueued.id, syncRunning.id, asyncRunning.id], "in the order they were received");
    t.same(claimed.map((r) => r?.attempts), [1, 2, 2], "attempts a crash interrupted still count");
    t.equal((await store.get(done.id))?.status, "graded", "a finished one is untouched");
  });

  t.test("idempotency: the same key and request replays, another request conflicts, per client and within the window", async (t) => {
    const store = await fresh(t);
    const first = submission({ idempotencyKey: "k", requestHash: "h1", receivedAt: 1000 });
    t.equal((await store.create(first, WINDOW)).kind, "created");
    const replay = await store.create(submission({ idempotencyKey: "k", requestHash: "h1", receivedAt: 2000 }), WINDOW);
    t.equal(replay.kind, "replayed");
    t.equal(replay.record.id, first.id, "the replay is the first submission");
    const conflict = await store.create(submission({ idempotencyKey: "k", requestHash: "h2", receivedAt: 2000 }), WINDOW);
    t.equal(conflict.kind, "conflict");
    t.equal((await store.create(submission({ idempotencyKey: "k", requestHash: "h2", clientId: "other", receivedAt: 2000 }), WINDOW)).kind, "created", "keys are per client");
    const later = await store.create(submission({ idempotencyKey: "k", requestHash: "h2", receivedAt: 1000 + WINDOW }), WINDOW);
    t.equal(later.kind, "created", "past the window the key grades anew");
    t.equal((await store.get(first.id))?.idempotencyKey, "k", "the old submission keeps its key");
    t.equal((await store.create(submission({ idempotencyKey: "k", requestHash: "h2", receivedAt: 2000 + WINDOW }), WINDOW)).record.id, later.record.id);
  });

  t.test("a key whose grading failed grades anew", async (t) => {
    const store = await fresh(t);
    const first = submission({ mode: "sync", idempotencyKey: "f", requestHash: "h" });
    await store.create(first, WINDOW);
    await store.start(first.id, 1, LEASE);
    await store.finish(first.id, { status: "failed", error: { code: "sandbox_unavailable", message: "down" } }, 2, null);
    const again = await store.create(submission({ idempotencyKey: "f", requestHash: "h" }), WINDOW);
    t.equal(again.kind, "created");
    t.not(again.record.id, first.id);
  });

  t.test("webhooks: pending when a submission with a callback ends, due at once, retried, then delivered or given up", async (t) => {
    const store = await fresh(t);
    const a = submission({ callbackUrl: "http://127.0.0.1:1/a" });
    const b = submission({ callbackUrl: "http://127.0.0.1:1/b" });
    const quiet = submission();
    for (const s of [a, b, quiet]) {
      await store.create(s, WINDOW);
      await store.claimNext(100, LEASE, 3, EXHAUSTED);
    }
    await store.finish(a.id, { status: "graded", feedback: feedback(a.id, 10) }, 100, "evt-a");
    await store.finish(b.id, { status: "graded", feedback: feedback(b.id, 20) }, 200, "evt-b");
    await store.finish(quiet.id, { status: "graded", feedback: feedback(quiet.id, 30) }, 200, "evt-q");
    t.equal((await store.get(quiet.id))?.webhook, null, "no callback, no webhook");
    t.same((await store.dueWebhooks(150, 10)).map((r) => r.id), [a.id]);
    t.same((await store.dueWebhooks(300, 10)).map((r) => r.id), [a.id, b.id]);
    t.equal(await store.nextWebhookAt(), 100);
    await store.recordWebhookAttempt(a.id, { at: 300, status: 500, error: null, state: "pending", nextAttemptAt: 5300 });
    t.match((await store.get(a.id))?.webhook, { state: "pending", eventId: "evt-a", attempts: 1, lastStatus: 500, nextAttemptAt: 5300, firstAttemptAt: 300 });
    t.same((await store.dueWebhooks(300, 10)).map((r) => r.id), [b.id], "not due before its next attempt");
    await store.recordWebhookAttempt(b.id, { at: 300, status: 410, error: null, state: "gave_up", nextAttemptAt: null });
    await store.recordWebhookAttempt(a.id, { at: 5300, status: null, error: "no answer", state: "pending", nextAttemptAt: 9000 });
    await store.recordWebhookAttempt(a.id, { at: 9000, status: 204, error: null, state: "delivered", nextAttemptAt: null });
    t.match((await store.get(a.id))?.webhook, { state: "delivered", attempts: 3, lastStatus: 204, firstAttemptAt: 300, nextAttemptAt: null });
    t.match((await store.get(b.id))?.webhook, { state: "gave_up", attempts: 1, lastStatus: 410 });
    t.same(await store.dueWebhooks(1e15, 10), []);
    t.equal(await store.nextWebhookAt(), null);
    await store.recordWebhookAttempt(a.id, { at: 9999, status: 500, error: null, state: "pending", nextAttemptAt: 1 });
    t.equal((await store.get(a.id))?.webhook?.state, "delivered", "a delivered webhook stays delivered");
  });

  t.test("the list is newest first, filtered, and paged with an opaque cursor", async (t) => {
    const store = await fresh(t);
    const made = [];
    for (let i = 0; i < 7; i++) {
      const s = submission({ student: i % 2 === 0 ? "even" : "odd", assignment: i < 5 ? "gradient-checking" : "other", clientId: i === 6 ? "c" : null });
      await store.create(s, WINDOW);
      made.push(s);
    }
    await store.claimNext(1, LEASE, 3, EXHAUSTED);
    const newestFirst = made.map((s) => s.id).reverse();
    const pages = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ limit: 3, ...(cursor !== undefined ? { cursor } : {}) });
      pages.push(page.items.map((i) => i.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    t.same(pages, [newestFirst.slice(0, 3), newestFirst.slice(3, 6), newestFirst.slice(6)]);
    const exact = await store.list({ limit: 7 });
    t.equal(exact.nextCursor, null, "no next page when the last one is exactly full");
    t.match(exact.items[6], { id: made[0]?.id, assignment: "gradient-checking", student: "even", status: "running", score: null, maxScore: null, receivedAt: made[0]?.receivedAt });
    t.same((await store.list({ limit: 10, assignment: "other" })).items.map((i) => i.id), [made[6]?.id, made[5]?.id]);
    t.same((await store.list({ limit: 10, student: "odd" })).items.map((i) => i.id), [made[5]?.id, made[3]?.id, made[1]?.id]);
    t.same((await store.list({ limit: 10, status: "running" })).items.map((i) => i.id), [made[0]?.id]);
    t.same((await store.list({ limit: 10, clientId: "c" })).items.map((i) => i.id), [made[6]?.id]);
    await t.rejects(store.list({ limit: 3, cursor: "not-a-cursor" }), InvalidCursorError);
  });

  t.test("retention blanks the sources of finished submissions received before the cutoff, keeping hash and feedback", async (t) => {
    const store = await fresh(t);
    const old = submission({ mode: "sync", receivedAt: 1000 });
    const oldPending = submission({ receivedAt: 1000 });
    const recent = submission({ mode: "sync", receivedAt: 5 * DAY });
    for (const s of [old, oldPending, recent]) await store.create(s, WINDOW);
    for (const s of [old, recent]) {
      await store.start(s.id, 1, LEASE);
      await store.finish(s.id, { status: "graded", feedback: feedback(s.id, 50) }, 2, null);
    }
    t.equal(await store.blankSources(DAY), 1);
    t.match(await store.get(old.id), { source: "", sourceBlanked: true, sourceSha256: old.sourceSha256, score: 50 });
    t.equal((await store.get(old.id))?.feedback?.score, 50);
    t.match(await store.get(oldPending.id), { source: oldPending.source, sourceBlanked: false }, "a pending source is kept: it still has to be graded");
    t.match(await store.get(recent.id), { source: recent.source, sourceBlanked: false });
    t.equal(await store.blankSources(DAY), 0, "blanking twice changes nothing");
  });

  t.test("several nodes: a queued sync submission is claimed before background work and expired leases, when the claim asks for sync work", async (t) => {
    const store = await fresh(t);
    const background = submission();
    const sync = submission({ mode: "sync" });
    await store.create(background, WINDOW);
    await store.create(sync, WINDOW);
    t.equal((await store.claimNext(1, LEASE, 3, EXHAUSTED)).claimed?.id, background.id, "a background-only claim leaves sync work alone");
    await store.release(background.id);
    const claimed = await store.claimNext(2, LEASE, 3, EXHAUSTED, { sync: true });
    t.match(claimed.claimed, { id: sync.id, status: "running", attempts: 1, mode: "sync" }, "the sync one goes first");
    t.equal((await store.claimNext(3, LEASE, 3, EXHAUSTED, { sync: true })).claimed?.id, background.id, "then background work");
    t.same(await store.claimNext(4, LEASE, 3, EXHAUSTED, { sync: true }), { failed: [] });
    const later = submission();
    await store.create(later, WINDOW);
    t.same(await store.claimNext(5, LEASE, 3, EXHAUSTED, { sync: true, background: false }), { failed: [] }, "a draining node claims sync work only");
    t.equal((await store.claimNext(5, LEASE, 3, EXHAUSTED, { sync: true })).claimed?.id, later.id);
  });

  t.test("several nodes: a renewed lease keeps a submission from being claimed again, and a lost one cannot be renewed", async (t) => {
    const store = await fresh(t);
    const input = submission();
    await store.create(input, WINDOW);
    const first = (await store.claimNext(0, 100, 3, EXHAUSTED)).claimed;
    t.equal(first?.attempts, 1);
    t.equal(await store.renewLease({ id: input.id, attempt: 1 }, 90, 100), true, "the holder renews");
    t.same(await store.claimNext(150, 100, 3, EXHAUSTED), { failed: [] }, "past the first lease, the renewed one still holds");
    t.match((await store.claimNext(191, 100, 3, EXHAUSTED)).claimed, { id: input.id, attempts: 2 }, "past the renewed lease, another node claims it");
    t.equal(await store.renewLease({ id: input.id, attempt: 1 }, 192, 100), false, "the first holder lost it");
    t.equal(await store.renewLease({ id: input.id, attempt: 2 }, 192, 100), true);
    t.equal(await store.renewLease({ id: "nope", attempt: 1 }, 192, 100), false, "an unknown submission has no lease");
  });

  t.test("several nodes: of two nodes racing to finish one submission, exactly one result is stored", async (t) => {
    const store = await fresh(t);
    const input = submission({ callbackUrl: "http://127.0.0.1:1/x" });
    await store.create(input, WINDOW);
    await store.claimNext(0, 100, 3, EXHAUSTED);
    await store.claimNext(200, 100, 3, EXHAUSTED); // the first node's lease ran out: claimed again (attempt 2)
    const results = await Promise.all([
      store.finish(input.id, { status: "graded", feedback: feedback(input.id, 10) }, 300, "evt-1", 1),
      store.finish(input.id, { status: "graded", feedback: feedback(input.id, 20) }, 300, "evt-2", 2),
    ]);
    t.equal(results[0], undefined, "the stale claim's result is refused");
    t.match(results[1], { status: "graded", score: 20, webhook: { eventId: "evt-2", state: "pending" } });
    t.equal(await store.finish(input.id, { status: "graded", feedback: feedback(input.id, 30) }, 301, "evt-3", 2), undefined, "and the winner's cannot be stored twice");
    t.match(await store.get(input.id), { status: "graded", score: 20, webhook: { eventId: "evt-2" } });
    const other = submission();
    await store.create(other, WINDOW);
    await store.claimNext(0, 100, 3, EXHAUSTED);
    await store.claimNext(200, 100, 3, EXHAUSTED);
    await store.release(other.id, 1);
    t.equal((await store.get(other.id))?.status, "running", "a stale claim cannot release it either");
    await store.release(other.id, 2);
    t.equal((await store.get(other.id))?.status, "queued");
  });

  t.test("several nodes: a sync submission no node started can be withdrawn as failed; a started one cannot", async (t) => {
    const store = await fresh(t);
    const waiting = submission({ mode: "sync" });
    const started = submission({ mode: "sync" });
    await store.create(waiting, WINDOW);
    await store.create(started, WINDOW);
    await store.start(started.id, 1, LEASE);
    const error = { code: "queue_full", message: "no worker took it" };
    t.match(await store.withdraw(waiting.id, error, 5), { status: "failed", error, finishedAt: 5 });
    t.equal(await store.withdraw(waiting.id, error, 6), undefined, "once");
    t.equal(await store.withdraw(started.id, error, 6), undefined, "a running one is left to its node");
    t.equal((await store.get(started.id))?.status, "running");
  });

  t.test("several nodes: a claimed webhook is held so that another node does not send it too, and is due again after the hold", async (t) => {
    const store = await fresh(t);
    const input = submission({ callbackUrl: "http://127.0.0.1:1/x" });
    await store.create(input, WINDOW);
    await store.claimNext(100, LEASE, 3, EXHAUSTED);
    await store.finish(input.id, { status: "graded", feedback: feedback(input.id, 10) }, 100, "evt");
    const claimed = await store.claimWebhooks(150, 10, 1000);
    t.same(claimed.map((r) => r.id), [input.id]);
    t.match(claimed[0]?.webhook, { eventId: "evt", attempts: 0, state: "pending" });
    t.same(await store.claimWebhooks(151, 10, 1000), [], "another node finds nothing due while it is held");
    t.same((await store.claimWebhooks(1151, 10, 1000)).map((r) => r.id), [input.id], "a holder that died leaves it due again");
    await store.recordWebhookAttempt(input.id, { at: 1200, status: 204, error: null, state: "delivered", nextAttemptAt: null });
    t.same(await store.claimWebhooks(1e15, 10, 1000), []);
  });

  t.test("several nodes: the store says when work is queued and when a submission finishes", async (t) => {
    const store = await fresh(t);
    const events = listen(store);
    t.teardown(events.stop);
    const input = submission();
    await store.create(input, WINDOW);
    await events.until((e) => e.kind === "queued", "queued after create");
    await store.claimNext(1, LEASE, 3, EXHAUSTED);
    events.seen.length = 0;
    await store.release(input.id);
    await events.until((e) => e.kind === "queued", "queued after release");
    await store.claimNext(2, LEASE, 3, EXHAUSTED);
    await store.finish(input.id, { status: "graded", feedback: feedback(input.id, 10) }, 3, null);
    await events.until((e) => e.kind === "finished" && e.id === input.id, "finished");
    const sync = submission({ mode: "sync" });
    await store.create(sync, WINDOW);
    await store.withdraw(sync.id, { code: "queue_full", message: "x" }, 4);
    await events.until((e) => e.kind === "finished" && e.id === sync.id, "finished after withdraw");
    events.stop();
    const count = events.seen.length;
    await store.create(submission(), WINDOW);
    await new Promise((r) => setTimeout(r, 50));
    t.equal(events.seen.length, count, "no event after unsubscribing");
  });

  // Issue #16: grading history and regrade jobs.
  const gradeSync = async (store: SubmissionStore, input: NewSubmission, score: number, now: number, status: "graded" | "rejected" | "failed" = "graded") => {
    await store.create(input, WINDOW);
    await store.start(input.id, now, LEASE);
    const outcome = status === "failed" ? { status, error: EXHAUSTED } : { status, feedback: feedback(input.id, score, status) };
    return store.finish(input.id, outcome, now, input.callbackUrl === null ? null : `evt-${input.id}`);
  };
  const regrade = (overrides: Partial<NewRegrade> = {}): NewRegrade => ({
    id: `rg-${++counter}`, assignment: "gradient-checking", version: "v2", dryRun: false, scope: "all", draft: null, createdAt: 1000, ...overrides,
  });

  t.test("a graded or rejected submission's first grading starts its history as submitted; a failed one has none", async (t) => {
    const store = await fresh(t);
    const graded = submission({ mode: "sync" });
    const rejected = submission({ mode: "sync" });
    const failed = submission({ mode: "sync" });
    await gradeSync(store, graded, 40, 50);
    await gradeSync(store, rejected, 0, 60, "rejected");
    await gradeSync(store, failed, 0, 70, "failed");
    t.match(await store.gradings(graded.id), [{ version: "fedcba9876543210", score: 40, maxScore: 100, gradedAt: 50, reason: "submitted", regrade: null, feedback: { score: 40 } }]);
    t.match(await store.gradings(rejected.id), [{ score: 0, reason: "submitted", feedback: { status: "rejected" } }]);
    t.same(await store.gradings(failed.id), []);
    t.same(await store.gradings("nope"), []);
  });

  t.test("a regrade chooses the assignment's graded submissions: all, or the latest per student (no student: one each)", async (t) => {
    const store = await fresh(t);
    const made: Record<string, NewSubmission> = {};
    let now = 100;
    for (const [name, student, status, assignment] of [
      ["ann1", "ann", "graded", "gradient-checking"], ["bob1", "bob", "rejected", "gradient-checking"], ["ann2", "ann", "graded", "gradient-checking"],
      ["anon1", null, "graded", "gradient-checking"], ["anon2", null, "graded", "gradient-checking"], ["bob2", "bob", "failed", "gradient-checking"],
      ["ann-other", "ann", "graded", "other"],
    ] as const) {
      made[name] = submission({ mode: "sync", student, assignment });
      await gradeSync(store, made[name], 10, now++, status);
    }
    const queued = submission({ student: "ann" });
    await store.create(queued, WINDOW);
    const all = await store.createRegrade(regrade({ scope: "all" }), LEASE);
    t.match(all, { status: "running", total: 5, done: 0, counts: { improved: 0, worsened: 0, unchanged: 0, errored: 0 }, dryRun: false, scope: "all", draft: null, finishedAt: null, error: null });
    const ids = (names: string[]) => names.map((n) => made[n]?.id);
    t.same(await store.pendingRegradeItems(all.id), ids(["ann1", "bob1", "ann2", "anon1", "anon2"]), "graded and rejected ones of the assignment, oldest first");
    const latest = await store.createRegrade(regrade({ scope: "latest", dryRun: true, draft: { "assignment.json": "{}" } }), LEASE);
    t.same(await store.pendingRegradeItems(latest.id), ids(["bob1", "ann2", "anon1", "anon2"]), "a failed latest does not hide the student's graded one");
    t.match(await store.getRegrade(latest.id), { dryRun: true, scope: "latest", draft: { "assignment.json": "{}" }, total: 4 });
    t.equal(await store.getRegrade("nope"), undefined);
  });

  t.test("a dry run's item results are counted and listed, and nothing of the submission changes", async (t) => {
    const store = await fresh(t);
    const a = submission({ mode: "sync" });
    const b = submission({ mode: "sync" });
    const c = submission({ mode: "sync" });
    for (const s of [a, b, c]) await gradeSync(store, s, 50, 10);
    const job = await store.createRegrade(regrade({ dryRun: true }), LEASE);
    await store.recordRegradeItem(job.id, a.id, { outcome: "improved", change: { after: 60 } });
    await store.recordRegradeItem(job.id, b.id, { outcome: "unchanged", change: null });
    await store.recordRegradeItem(job.id, b.id, { outcome: "worsened", change: { after: 1 } });
    t.match(await store.getRegrade(job.id), { total: 3, done: 2, counts: { improved: 1, worsened: 0, unchanged: 1, errored: 0 } }, "an item is recorded once");
    t.same(await store.pendingRegradeItems(job.id), [c.id]);
    t.same(await store.regradeItems(job.id, { changedOnly: true }), [{ submission: a.id, outcome: "improved", change: { after: 60 } }]);
    t.same((await store.regradeItems(job.id, { changedOnly: false })).map((i) => i.submission), [a.id, b.id]);
    t.match(await store.get(a.id), { score: 50 });
    t.equal((await store.gradings(a.id)).length, 1);
    t.ok(await store.finishRegrade(job.id, "done", 99, null));
    t.notOk(await store.finishRegrade(job.id, "failed", 100, "late"), "a finished regrade finishes once");
    t.match(await store.getRegrade(job.id), { status: "done", finishedAt: 99, error: null });
  });

  t.test("a real regrade's item replaces the submission's grading, extends its history, and makes a regraded webhook pending", async (t) => {
    const store = await fresh(t);
    const hooked = submission({ mode: "sync", callbackUrl: "http://127.0.0.1:1/h" });
    const quiet = submission({ mode: "sync" });
    await gradeSync(store, hooked, 50, 10);
    await gradeSync(store, quiet, 50, 10);
    await store.recordWebhookAttempt(hooked.id, { at: 11, status: 204, error: null, state: "delivered", nextAttemptAt: null });
    t.equal((await store.get(hooked.id))?.webhook?.event, "submission.completed");
    const job = await store.createRegrade(regrade(), LEASE);
    const after = { ...feedback(hooked.id, 80), assignmentVersion: "v2" };
    const record = await store.applyRegradeItem(job.id, hooked.id, after, { outcome: "improved", change: { x: 1 } }, 500, "evt-regraded");
    t.match(record, { score: 80, maxScore: 100, assignmentVersion: "v2", status: "graded", webhook: { state: "pending", event: "submission.regraded", eventId: "evt-regraded", attempts: 0, lastStatus: null, nextAttemptAt: 500, firstAttemptAt: null } });
    t.equal(record?.feedback?.score, 80);
    t.same((await store.dueWebhooks(500, 10)).map((r) => r.id), [hooked.id]);
    t.match(await store.gradings(hooked.id), [{ reason: "submitted", score: 50, regrade: null }, { reason: "regrade", score: 80, version: "v2", gradedAt: 500, regrade: job.id }]);
    t.equal(await store.applyRegradeItem(job.id, hooked.id, after, { outcome: "improved", change: null }, 600, null), undefined, "an item is applied once");
    t.equal((await store.gradings(hooked.id)).length, 2);
    const same = await store.applyRegradeItem(job.id, quiet.id, { ...feedback(quiet.id, 50), assignmentVersion: "v2" }, { outcome: "unchanged", change: null }, 700, null);
    t.match(same, { score: 50, assignmentVersion: "v2", webhook: null }, "no event id, no webhook");
    t.match(await store.getRegrade(job.id), { done: 2, counts: { improved: 1, unchanged: 1 } });
  });

  t.test("a cancelled regrade records no more items, and running ones are listed for a restart", async (t) => {
    const store = await fresh(t);
    const a = submission({ mode: "sync" });
    const b = submission({ mode: "sync" });
    for (const s of [a, b]) await gradeSync(store, s, 50, 10);
    const cancelled = await store.createRegrade(regrade(), LEASE);
    const running = await store.createRegrade(regrade({ dryRun: true }), LEASE);
    await store.applyRegradeItem(cancelled.id, a.id, feedback(a.id, 70), { outcome: "improved", change: {} }, 20, null);
    t.ok(await store.finishRegrade(cancelled.id, "cancelled", 30, "cancelled by a client"));
    t.equal(await store.applyRegradeItem(cancelled.id, b.id, feedback(b.id, 70), { outcome: "improved", change: {} }, 40, null), undefined);
    await store.recordRegradeItem(cancelled.id, b.id, { outcome: "errored", change: null });
    t.match(await store.getRegrade(cancelled.id), { status: "cancelled", done: 1, total: 2, error: "cancelled by a client" }, "what was done stays done");
    t.match(await store.get(b.id), { score: 50 });
    t.same((await store.runningRegrades()).map((r) => r.id), [running.id]);
  });

  // Regrade leases: a regrade job is held by one node at a time.
  const twoNodes = async (t: Test): Promise<[SubmissionStore, SubmissionStore]> => {
    if (traits.pair === undefined) {
      const store = await fresh(t);
      return [store, store];
    }
    const [a, b] = await traits.pair();
    t.teardown(() => Promise.all([a.close(), b.close()]));
    return [a, b];
  };

  t.test("a running regrade whose lease ran out is claimed by exactly one of two nodes, with a new claim", async (t) => {
    const [a, b] = await twoNodes(t);
    await gradeSync(a, submission({ mode: "sync" }), 50, 10);
    const jobs = [];
    for (let i = 0; i < 5; i++) jobs.push(await a.createRegrade(regrade({ createdAt: 1000 + i }), LEASE));
    t.same(jobs.map((j) => j.claim), [1, 1, 1, 1, 1], "its creator holds it under the first claim");
    t.equal(await b.claimRegrade(2000, LEASE), undefined, "a held regrade is not claimable");
    t.equal(await a.claimRegrade(2000, LEASE), undefined);
    const claimedBy = new Map<string, number>();
    // Two claimers per node race until nothing is left to claim.
    await Promise.all([a, a, b, b].map(async (node) => {
      for (;;) {
        const claimed = await node.claimRegrade(70_000, LEASE);
        if (claimed === undefined) return;
        t.match(claimed, { status: "running", claim: 2 });
        claimedBy.set(claimed.id, (claimedBy.get(claimed.id) ?? 0) + 1);
      }
    }));
    t.same([...claimedBy.keys()].sort(), jobs.map((j) => j.id).sort(), "every expired regrade was claimed");
    t.ok([...claimedBy.values()].every((n) => n === 1), "none twice");
    t.equal(await a.claimRegrade(100_000, LEASE), undefined, "the new lease holds until now + LEASE");
    t.equal((await b.claimRegrade(130_000, LEASE))?.claim, 3, "and runs out then");
    const finished = await a.createRegrade(regrade({ createdAt: 0 }), LEASE);
    t.ok(await a.finishRegrade(finished.id, "done", 5, null, finished.claim));
    t.equal((await b.claimRegrade(1_000_000, LEASE))?.id, jobs[0]!.id, "the oldest running one is claimed first; a finished one never");
  });

  t.test("a node that lost its regrade's lease can neither apply an item, record one, renew, nor finish it", async (t) => {
    const [a, b] = await twoNodes(t);
    const x = submission({ mode: "sync", callbackUrl: "http://127.0.0.1:1/h" });
    const y = submission({ mode: "sync" });
    await gradeSync(a, x, 50, 10);
    await gradeSync(a, y, 50, 10);
    await a.recordWebhookAttempt(x.id, { at: 11, status: 204, error: null, state: "delivered", nextAttemptAt: null });
    const job = await a.createRegrade(regrade(), LEASE);
    const taken = await b.claimRegrade(job.createdAt + LEASE, LEASE);
    t.match(taken, { id: job.id, claim: 2 });
    const after = { ...feedback(x.id, 80), assignmentVersion: "v2" };
    t.notOk(await a.renewRegradeLease(job.id, 1, job.createdAt + LEASE + 1, LEASE), "the old holder's renewal is refused");
    t.equal(await a.applyRegradeItem(job.id, x.id, after, { outcome: "improved", change: {} }, 62_000, "evt-stale", 1), undefined, "a fenced-out apply is refused");
    t.notOk(await a.recordRegradeItem(job.id, y.id, { outcome: "errored", change: null }, 1), "so is a fenced-out record");
    t.match(await a.get(x.id), { score: 50, webhook: { state: "delivered", event: "submission.completed" } }, "nothing of the submission changed");
    t.equal((await a.gradings(x.id)).length, 1);
    t.ok(await b.applyRegradeItem(job.id, x.id, after, { outcome: "improved", change: {} }, 63_000, "evt-holder", 2), "the holder applies it");
    t.equal(await b.applyRegradeItem(job.id, x.id, after, { outcome: "improved", change: {} }, 64_000, "evt-again", 2), undefined, "once");
    t.match(await a.get(x.id), { score: 80, webhook: { state: "pending", event: "submission.regraded", eventId: "evt-holder" } }, "one regraded webhook, the holder's");
    t.same((await a.gradings(x.id)).map((g) => g.reason), ["submitted", "regrade"], "one regrade grading");
    t.notOk(await a.finishRegrade(job.id, "done", 65_000, null, 1), "the old holder cannot finish it");
    t.match(await a.getRegrade(job.id), { status: "running", done: 1 });
    t.ok(await a.finishRegrade(job.id, "cancelled", 66_000, "cancelled by a client"), "a client's cancel works from any node");
    t.notOk(await b.renewRegradeLease(job.id, 2, 67_000, LEASE), "and the holder's next renewal tells it to stop");
    t.equal(await b.claimRegrade(1_000_000, LEASE), undefined);
  });

  t.test("a renewed regrade lease is not claimable; a released one is, at once", async (t) => {
    const [a, b] = await twoNodes(t);
    await gradeSync(a, submission({ mode: "sync" }), 50, 10);
    const job = await a.createRegrade(regrade({ createdAt: 1000 }), LEASE);
    t.ok(await a.renewRegradeLease(job.id, job.claim, 50_000, LEASE), "its holder renews it");
    t.equal(await b.claimRegrade(70_000, LEASE), undefined, "past the first lease, the renewed one holds");
    t.equal(await b.claimRegrade(109_999, LEASE), undefined);
    await a.releaseRegrade(job.id, job.claim);
    t.match(await b.claimRegrade(70_000, LEASE), { id: job.id, claim: 2 }, "a node that stops ends its lease: another claims it at once");
    t.notOk(await a.renewRegradeLease(job.id, job.claim, 71_000, LEASE));
    await a.releaseRegrade(job.id, job.claim);
    t.equal(await a.claimRegrade(72_000, LEASE), undefined, "a stale release leaves the new holder's lease alone");
  });

  t.test(traits.shared ? "recover() at a node's start leaves the regrades other nodes hold alone" : "recover() at start ends every running regrade's lease (no other process holds it)", async (t) => {
    const store = await fresh(t);
    await gradeSync(store, submission({ mode: "sync" }), 50, 10);
    const job = await store.createRegrade(regrade({ createdAt: Date.now() }), LEASE);
    await store.recover();
    const claimed = await store.claimRegrade(Date.now(), LEASE);
    if (traits.shared) t.equal(claimed, undefined);
    else t.match(claimed, { id: job.id, claim: 2 });
  });

  // The packs installed through the API, which every node that shares the store makes live.
  const packFiles = (n: number) => ({ "assignment.json": `{"id": "activations", "n": ${n}}`, "cases/a.json": "{}", "reference/solution.mjs": `export const n = ${n};` });

  t.test("an installed pack is stored with its files, and installing its id again replaces it with a later sequence", async (t) => {
    const store = await fresh(t);
    t.same(await store.installedPacks(), [], "a new store has no installed packs");
    t.equal(await store.installedPack("activations"), undefined);
    const first = await store.savePack({ id: "activations", version: "v1", files: packFiles(1), installedAt: 1000 });
    t.match(first, { id: "activations", version: "v1", files: packFiles(1), installedAt: 1000 });
    t.same(await store.installedPack("activations"), first, "read back as saved, files and all");
    const other = await store.savePack({ id: "gradient-checking", version: "g1", files: packFiles(7), installedAt: 1500 });
    t.ok(other.seq > first.seq, "every save takes a later sequence, whatever its id");
    const second = await store.savePack({ id: "activations", version: "v2", files: packFiles(2), installedAt: 2000 });
    t.ok(second.seq > other.seq, "a new install of an id takes a later sequence");
    t.same(await store.installedPack("activations"), second, "only the last install of an id is kept");
    t.same(await store.installedPacks(), [second, other], "every stored pack, by id");
  });

  t.test("several nodes: a pack installed on one node wakes every node that shares the store", async (t) => {
    // SQLite is one process's: its own subscribers hear it. PostgreSQL: the other node does.
    const [a, b] = traits.shared ? await twoNodes(t) : await fresh(t).then((store) => [store, store] as const);
    const events = listen(b);
    t.teardown(events.stop);
    await a.savePack({ id: "activations", version: "v1", files: packFiles(1), installedAt: 1000 });
    await events.until((e) => e.kind === "pack" && e.id === "activations", "pack installed");
    t.match(await b.installedPack("activations"), { version: "v1", files: packFiles(1) }, "and that node reads what was installed");
    t.notOk(events.seen.some((e) => e.kind === "queued" || e.kind === "finished"), "nothing else is announced");
  });
}
