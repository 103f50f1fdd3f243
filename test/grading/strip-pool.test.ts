import t from "tap";
import { StripPool } from "../../src/grading/strip-pool.js";
import { PoolError } from "../../src/sandbox/pool.js";

// The TypeScript stripping threads: the compiler never runs on the caller's event loop, a source
// gets a limited time, and the queue in front of the threads is bounded.

/** `let r = x as B as B …`: the parser's time grows faster than the source (seconds at 256 KiB). */
function asChain(bytes: number): string {
  return `let r = x${" as B".repeat(Math.floor((bytes - 9) / 5))}`;
}

const pool = new StripPool({ threads: 1, timeoutMs: 500, queueLength: 1, memoryMb: 128 });
t.teardown(() => pool.close());
await pool.ready();

t.test("a source is stripped in a thread, with its positions kept", async (t) => {
  t.same(await pool.strip("export const f = (x: number): number => x * 2;\n"), { ok: true, source: "export const f = (x        )         => x * 2;\n" });
  const refused = await pool.strip("\n  enum E { A }");
  t.equal(refused.ok, false);
  if (!refused.ok) t.match(refused.outcome, { kind: "unsupported-typescript", message: /enum declaration/, line: 2, column: 3 });
});

t.test("a source the parser cannot finish within the limit is refused as too complex, and the next source is stripped by a new thread", async (t) => {
  const started = performance.now();
  const slow = await pool.strip(asChain(256 * 1024));
  // 500 ms of CPU time, or ten times that in wall-clock time on a busy machine: not the parse's seconds.
  t.ok(performance.now() - started < 15_000, "answered near the limit, not after the parse");
  t.same(slow, { ok: false, outcome: { kind: "unsupported-typescript", message: 'This TypeScript is too complex to parse within 500 ms; simplify it (long chains of "as" or "satisfies", deep nesting) or submit JavaScript.', line: 1, column: 1 } });
  t.same(await pool.strip("const n: number = 1;"), { ok: true, source: "const n         = 1;" }, "the replacement thread strips");
});

t.test("with the thread busy and the queue full, a source is refused queue_full with a retry delay", async (t) => {
  const running = pool.strip(asChain(256 * 1024));
  const queued = pool.strip("const a: string = '';");
  const refused = await pool.strip("const b = 1;").then(() => undefined, (error: unknown) => error);
  t.ok(refused instanceof PoolError, "refused");
  t.equal((refused as PoolError).code, "queue_full");
  t.ok((refused as PoolError).retryAfterS >= 1, "with Retry-After");
  t.equal((await running).ok, false);
  t.same(await queued, { ok: true, source: "const a         = '';" }, "the queued source is stripped once a thread is free");
});

t.test("closing the pool refuses what waits and what comes", async (t) => {
  const other = new StripPool({ threads: 1, timeoutMs: 500, queueLength: 4, memoryMb: 128 });
  const waiting = t.rejects(other.strip("const a = 1;"), { code: "closed" });
  await other.close();
  await waiting;
  await t.rejects(other.strip("const b = 1;"), { code: "closed" });
});
