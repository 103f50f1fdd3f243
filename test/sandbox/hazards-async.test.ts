import t from "tap";
import { buildApp, fastLimits } from "../helpers/app.js";
import { byId, HIDDEN_TEST_KEYS, hiddenAllFailed, hiddenTests, honestStillScores100, hostile, score, submit } from "./support.js";

// Issue 4, promises: there are no timers in the sandbox, so a promise still pending once the call's microtasks
// have run can never settle. Never-settling promises, thenables whose `then` spins, microtask floods and
// top-level await are each answered with a verdict within the limit.

const app = await buildApp({ ...fastLimits });
t.teardown(() => app.close());

t.test("a graded function that returns a promise that never settles gets a timeout verdict at once", async (t) => {
  const { feedback, ms } = await submit(t, app, hostile("promise-never-settles.mjs"));
  t.ok(ms < 2000, `answered in ${ms} ms: nothing waited for the promise`);
  for (const [id, name] of [["forward-notebook", "forward_propagation"], ["backward-notebook", "backward_propagation"]] as const) {
    t.equal(byId(feedback, id)?.status, "timeout", `${id} is a timeout`);
    t.equal(byId(feedback, id)?.message, `${name} returned a promise that never settles.`);
  }
  hiddenAllFailed(t, feedback, "forward_propagation");
  await honestStillScores100(t, app);
});

t.test("a returned thenable whose then loops forever is not awaited (wrong type); from an async function, its then runs and times out", async (t) => {
  const { feedback } = await submit(t, app, hostile("thenable-spinning-then.mjs"));
  t.equal(byId(feedback, "forward-notebook")?.status, "failed");
  t.match(byId(feedback, "forward-notebook")?.detail, /^Wrong type: expected a finite number, received an object/);
  t.equal(byId(feedback, "backward-notebook")?.status, "timeout");
  t.equal(byId(feedback, "backward-notebook")?.message, "backward_propagation did not finish within 400 ms.");
  await honestStillScores100(t, app);
});

t.test("a microtask that queues itself forever times out the call that started it", async (t) => {
  const { feedback } = await submit(t, app, hostile("microtask-flood.mjs"));
  t.equal(byId(feedback, "forward-notebook")?.status, "timeout");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation did not finish within 400 ms.");
  t.equal(score(feedback, "backward_propagation"), 25, "the next function is graded in the same sandbox");
  await honestStillScores100(t, app);
});

t.test("an async graded function that rejects with a spinning message getter, or loops after an await, times out", async (t) => {
  const { feedback } = await submit(t, app, hostile("async-rejects-spinning-message.mjs"));
  t.equal(byId(feedback, "forward-notebook")?.status, "timeout");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation did not finish within 400 ms.");
  t.equal(byId(feedback, "backward-notebook")?.status, "timeout");
  t.equal(byId(feedback, "backward-notebook")?.message, "backward_propagation did not finish within 400 ms.");
  await honestStillScores100(t, app);
});

t.test("a top-level await followed by an infinite loop is rejected with module_timeout", async (t) => {
  const { feedback } = await submit(t, app, hostile("top-level-await-then-loop.mjs"));
  t.equal(feedback.status, "rejected");
  t.equal(feedback.reason?.code, "module_timeout");
  t.equal(feedback.reason?.message, "The module's top-level code did not finish within 400 ms.");
  await honestStillScores100(t, app);
});

t.test("a top-level await that never settles is rejected with module_never_settled, at once", async (t) => {
  const { feedback, ms } = await submit(t, app, hostile("top-level-await-never-settles.mjs"));
  t.ok(ms < 2000, `answered in ${ms} ms`);
  t.equal(feedback.status, "rejected");
  t.equal(feedback.reason?.code, "module_never_settled");
  t.equal(feedback.reason?.message, "The module's top-level await never settles.");
  await honestStillScores100(t, app);
});
