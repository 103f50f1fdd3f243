import t from "tap";
import { IdempotencyCache } from "../src/idempotency.js";

// The cache behind Idempotency-Key and submissionId: a replay within the window, a conflict for another body,
// bounded in entries and in time. A fake clock stands in for the window.

t.test("a repeated key within the window returns the first result without computing again", async (t) => {
  let now = 0;
  const cache = new IdempotencyCache<number>(10, 1000, () => now);
  let computed = 0;
  const compute = async () => ++computed;
  const first = cache.run("k", "body", compute);
  now = 999;
  const again = cache.run("k", "body", compute);
  t.ok("result" in first && "result" in again);
  if (!("result" in first) || !("result" in again)) return;
  t.equal(await again.result, await first.result);
  t.equal(again.replayed, true);
  t.equal(computed, 1, "computed once");
});

t.test("after the window the key grades anew, even with another body", async (t) => {
  let now = 0;
  const cache = new IdempotencyCache<number>(10, 1000, () => now);
  let computed = 0;
  cache.run("k", "body", async () => ++computed);
  t.same(cache.run("k", "other", async () => ++computed), { conflict: true }, "another body within the window conflicts");
  now = 1000;
  const later = cache.run("k", "other", async () => ++computed);
  t.ok("result" in later && later.replayed === false, "a fresh grading");
  t.equal(computed, 2);
});

t.test("the least recently used keys are forgotten beyond the capacity, and a failed computation is not remembered", async (t) => {
  const cache = new IdempotencyCache<string>(2);
  cache.run("a", "x", async () => "a");
  cache.run("b", "x", async () => "b");
  cache.run("c", "x", async () => "c");
  t.equal(cache.size, 2);
  const a = cache.run("a", "x", async () => "a again");
  t.ok("result" in a && a.replayed === false, "the oldest key was forgotten");
  const failing = cache.run("f", "x", async () => { throw new Error("pool closed"); });
  if ("result" in failing) await failing.result.catch(() => undefined);
  const retry = cache.run("f", "x", async () => "ok");
  t.ok("result" in retry && retry.replayed === false, "a retry after a failure computes again");
});

t.test("the cache is bounded in bytes too: past IDEMPOTENCY_CACHE_MB the least recently used feedbacks are forgotten", async (t) => {
  const cache = new IdempotencyCache<string>(1000, Number.POSITIVE_INFINITY, Date.now, { maxBytes: 10_000, sizeOf: (value) => value.length });
  const big = "x".repeat(3000);
  for (const key of ["a", "b", "c"]) {
    const run = cache.run(key, "h", async () => big);
    if ("result" in run) await run.result;
  }
  t.equal(cache.size, 3);
  t.ok(cache.byteSize <= 10_000 && cache.byteSize > 9000, `${cache.byteSize} bytes held`);
  const d = cache.run("d", "h", async () => big);
  if ("result" in d) await d.result;
  t.equal(cache.size, 3, "one entry was forgotten to make room");
  t.ok(cache.byteSize <= 10_000);
  const a = cache.run("a", "h", async () => "again");
  t.ok("result" in a && a.replayed === false, "the least recently used one");
  const huge = cache.run("huge", "h", async () => "y".repeat(20_000));
  if ("result" in huge) await huge.result;
  t.ok(cache.byteSize <= 10_000, "a result larger than the bound is not kept");
  const again = cache.run("huge", "h", async () => "recomputed");
  t.ok("result" in again && again.replayed === false);
});
