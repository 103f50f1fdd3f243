import t from "tap";
import { buildApp, fastLimits } from "../helpers/app.js";
import { byId, HIDDEN_TEST_KEYS, hiddenAllFailed, hiddenTests, honestStillScores100, hostile, score, submit } from "./support.js";

// Issue 4, code that never stops: loops at top level, in an export, in the conversions of a returned value,
// in the getters of a thrown value (which isolated-vm reads outside its timeout), in Error.prepareStackTrace,
// catastrophic regular expressions and unbounded recursion. Each is answered within its limit with a verdict,
// and the service then grades an honest submission normally.

const app = await buildApp({ ...fastLimits });
t.teardown(() => app.close());

t.test("a submission that loops forever at top level is rejected with module_timeout and the next one is graded normally", async (t) => {
  const { feedback } = await submit(t, app, hostile("loop-at-top-level.mjs"));
  t.equal(feedback.status, "rejected");
  t.equal(feedback.score, 0);
  t.equal(feedback.reason?.code, "module_timeout");
  t.equal(feedback.reason?.message, "The module's top-level code did not finish within 400 ms.");
  t.ok(feedback.exercises.every((e) => e.tests.every((x) => x.status === (x.visibility === "public" ? "error" : "failed") && x.message === "Not run: the module could not be loaded.")));
  await honestStillScores100(t, app);
});

t.test("a graded function that loops forever times out once; the rest of its all-or-nothing exercise is not run, and the other exercises are still graded", async (t) => {
  const { feedback, ms } = await submit(t, app, hostile("loop-in-export.mjs"));
  t.ok(ms < 2 * 400 + 300, `answered in ${ms} ms: one call's limit, not one per case`);
  t.equal(feedback.status, "graded");
  t.equal(byId(feedback, "forward-notebook")?.status, "timeout");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation did not finish within 400 ms.");
  hiddenAllFailed(t, feedback, "forward_propagation");
  t.equal(score(feedback, "backward_propagation"), 25, "backward_propagation, which is correct, gets its points");
  await honestStillScores100(t, app);
});

// A getter, toJSON, toString, valueOf or Symbol.toPrimitive that spins would hang a harness that serialised,
// printed or coerced the result. The prelude reads returned values through descriptors only, so none runs: the
// value is simply of the wrong type.
const spinningConversions: Array<[string, string, RegExp, RegExp]> = [
  ["getter", "loop-in-result-getter.mjs", /received an object/, /received an array containing a getter at \[0\]/],
  ["toJSON", "loop-in-result-tojson.mjs", /received an object/, /received an instance of Object/],
  ["toString", "loop-in-result-tostring.mjs", /received an object/, /received an array containing a function at \[0\]/],
  ["valueOf", "loop-in-result-valueof.mjs", /received an object/, /received a boxed number \(new Number\(3\)\)/],
  ["Symbol.toPrimitive", "loop-in-result-toprimitive.mjs", /received an object/, /received an instance of Sneaky/],
];
for (const [what, file, forwardReceived, backwardReceived] of spinningConversions) {
  t.test(`a returned value whose ${what} loops forever is never run: it fails as the wrong type, at once`, async (t) => {
    const { feedback, ms } = await submit(t, app, hostile(file));
    t.ok(ms < 2000, `answered in ${ms} ms: nothing spun`);
    for (const [id, received] of [["forward-notebook", forwardReceived], ["backward-notebook", backwardReceived]] as const) {
      t.equal(byId(feedback, id)?.status, "failed", `${id} failed`);
      t.match(byId(feedback, id)?.detail, /^Wrong type: expected a finite number, /, `${id} says wrong type`);
      t.match(byId(feedback, id)?.detail, received, `${id} says what was received`);
    }
    for (const hidden of [...hiddenTests(feedback, "forward_propagation"), ...hiddenTests(feedback, "backward_propagation")]) t.equal(hidden.status, "failed");
    await honestStillScores100(t, app);
  });
}

t.test("a thrown object whose message getter loops forever is a timeout verdict, not a hung worker", async (t) => {
  const { feedback } = await submit(t, app, hostile("throws-spinning-message.mjs"));
  t.equal(byId(feedback, "forward-notebook")?.status, "timeout");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation did not finish within 400 ms.");
  t.equal(byId(feedback, "backward-notebook")?.status, "timeout", "an Error whose message was redefined as a spinning getter too");
  t.equal(byId(feedback, "backward-notebook")?.message, "backward_propagation did not finish within 400 ms.");
  await honestStillScores100(t, app);
});

t.test("a thrown error whose stack (or name) getter loops forever is a timeout verdict", async (t) => {
  const { feedback } = await submit(t, app, hostile("throws-spinning-stack.mjs"));
  t.equal(byId(feedback, "forward-notebook")?.status, "timeout");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation did not finish within 400 ms.");
  t.equal(byId(feedback, "backward-notebook")?.status, "timeout");
  await honestStillScores100(t, app);
});

t.test("a top-level throw whose message getter loops forever (read by isolated-vm outside its timeout) is stopped by the watchdog: module_timeout", async (t) => {
  const { feedback, ms } = await submit(t, app, hostile("throws-spinning-message-at-top-level.mjs"));
  t.equal(feedback.status, "rejected");
  t.equal(feedback.reason?.code, "module_timeout");
  t.equal(feedback.reason?.message, "The module's top-level code did not finish within 400 ms.");
  t.ok(ms >= 400 + 300 - 50, `it took the limit plus the kill grace (${ms} ms): the worker's watchdog answered`);
  await honestStillScores100(t, app);
});

t.test("an Error.prepareStackTrace that loops forever makes the throwing function time out", async (t) => {
  const { feedback } = await submit(t, app, hostile("spinning-prepare-stack-trace.mjs"));
  t.equal(byId(feedback, "forward-notebook")?.status, "timeout");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation did not finish within 400 ms.");
  t.equal(score(feedback, "backward_propagation"), 25, "backward_propagation, which does not throw, is unaffected");
  await honestStillScores100(t, app);
});

t.test("a rejected promise left behind with a spinning message getter (read by isolated-vm after the call) is a timeout verdict", async (t) => {
  const { feedback } = await submit(t, app, hostile("rejects-spinning-message-unhandled.mjs"));
  t.equal(byId(feedback, "forward-notebook")?.status, "timeout");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation did not finish within 400 ms.");
  // The watchdog had to dispose the isolate: nothing more can run in it.
  t.equal(byId(feedback, "backward-notebook")?.status, "error");
  t.equal(byId(feedback, "backward-notebook")?.message, "Not run: an earlier test exhausted the sandbox (time or memory).");
  await honestStillScores100(t, app);
});

t.test("a regular expression with catastrophic backtracking times out", async (t) => {
  const { feedback } = await submit(t, app, hostile("catastrophic-regex.mjs"));
  t.equal(byId(feedback, "forward-notebook")?.status, "timeout");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation did not finish within 400 ms.");
  t.equal(score(feedback, "backward_propagation"), 25);
  await honestStillScores100(t, app);
});

t.test("unbounded recursion is a RangeError with its line; recursing again from the catch block is a timeout", async (t) => {
  const { feedback } = await submit(t, app, hostile("unbounded-recursion.mjs"));
  t.equal(byId(feedback, "forward-notebook")?.status, "error");
  t.match(byId(feedback, "forward-notebook")?.message, /^forward_propagation threw RangeError: Maximum call stack size exceeded \(line 3, column \d+\)$/);
  t.equal(byId(feedback, "backward-notebook")?.status, "timeout");
  t.equal(byId(feedback, "backward-notebook")?.message, "backward_propagation did not finish within 400 ms.");
  await honestStillScores100(t, app);
});
