import t from "tap";
import { buildApp, fastLimits } from "../helpers/app.js";
import { byId, hiddenTests, honestStillScores100, hostile, score, submit } from "./support.js";

// Issue 4, what comes back: results that are cyclic, a million levels deep, many megabytes large or 30 MB
// strings; console floods of hundreds of MB; and results that lie about being the right number. Results are
// reduced to bounded JSON inside the isolate, so each is a verdict, and nothing is ever coerced.

// No hazard here is about time, but building a million nested objects or 200 000 keys takes the isolate (which
// runs --jitless, or a cold JIT) a few hundred ms on a busy machine: the call timeout is raised so that only the result is judged.
const env = { ...fastLimits, CALL_TIMEOUT_MS: "3000" };
const app = await buildApp(env);
t.teardown(() => app.close());

t.test("a cyclic result (an array or an object that contains itself) fails as the wrong type, showing the cycle", async (t) => {
  const { feedback } = await submit(t, app, hostile("returns-cyclic.mjs"), {}, env);
  t.equal(byId(feedback, "forward-notebook")?.status, "failed");
  t.equal(byId(feedback, "forward-notebook")?.detail, "Wrong type: expected a finite number, received an array containing a circular reference at [1].");
  t.equal(byId(feedback, "forward-notebook")?.received, "[8, [Circular]]");
  t.equal(byId(feedback, "backward-notebook")?.status, "failed");
  t.match(byId(feedback, "backward-notebook")?.detail, /^Wrong type: expected a finite number, received an object/);
  t.match(byId(feedback, "backward-notebook")?.received, /\[Circular\]/);
  await honestStillScores100(t, app, env);
});

t.test("a result nested a million levels deep (or endlessly, through a Proxy) fails with the depth limit", async (t) => {
  const { feedback } = await submit(t, app, hostile("returns-deeply-nested.mjs"), {}, env);
  t.equal(byId(feedback, "forward-notebook")?.status, "failed");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation returned a value nested deeper than 32 levels.");
  t.equal(byId(feedback, "backward-notebook")?.status, "failed");
  t.equal(byId(feedback, "backward-notebook")?.message, "backward_propagation returned a value nested deeper than 32 levels.");
  await honestStillScores100(t, app, env);
});

t.test("a result many megabytes large (2 million numbers, 200 000 keys) fails with the size limit", async (t) => {
  const { feedback } = await submit(t, app, hostile("returns-huge.mjs"), {}, env);
  t.equal(byId(feedback, "forward-notebook")?.status, "failed");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation returned a value larger than 64 KiB.");
  t.equal(byId(feedback, "backward-notebook")?.status, "failed");
  t.equal(byId(feedback, "backward-notebook")?.message, "backward_propagation returned a value larger than 64 KiB.");
  t.ok(Buffer.byteLength(JSON.stringify(feedback)) < 64 * 1024, "the feedback itself stays small");
  await honestStillScores100(t, app, env);
});

t.test("a 30 MB string returned fails with the size limit; a 30 MB string printed is cut to the output limit", async (t) => {
  const { feedback, text } = await submit(t, app, hostile("returns-30mb-string.mjs"), {}, env);
  t.equal(byId(feedback, "forward-notebook")?.status, "failed");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation returned a value larger than 64 KiB.");
  t.equal(byId(feedback, "backward-notebook")?.status, "passed", "printing it does not stop the function");
  t.equal(feedback.outputTruncated, true);
  t.ok(Buffer.byteLength(feedback.output) <= 64 * 1024, `the output is at most OUTPUT_KIB (${Buffer.byteLength(feedback.output)} bytes)`);
  t.ok(text.length < 256 * 1024, `the whole response is small (${text.length} characters)`);
  await honestStillScores100(t, app, env);
});

t.test("a console flood of 300 MB is cut to the output limit, cheaply, and the function is still graded", async (t) => {
  const { feedback, text } = await submit(t, app, hostile("console-flood.mjs"), {}, env);
  t.equal(byId(feedback, "forward-notebook")?.status, "passed", "the flooding function returned the right value in time");
  t.equal(score(feedback, "forward_propagation"), 25);
  t.equal(score(feedback, "backward_propagation"), 25);
  t.equal(feedback.outputTruncated, true);
  t.ok(Buffer.byteLength(feedback.output) <= 64 * 1024, `the output is at most OUTPUT_KIB (${Buffer.byteLength(feedback.output)} bytes)`);
  t.match(feedback.output, /^flood flood /);
  t.ok(text.length < 256 * 1024, `the whole response is small (${text.length} characters)`);
  await honestStillScores100(t, app, env);
});

// Values a careless harness would take for the right number (by ==, +, JSON.stringify or a tolerance check that
// NaN never fails). Each must fail the public forward and backward tests as the wrong type, and the hidden ones.
const lies: Array<[string, string, string, string]> = [
  ["numeric strings", "returns-numeric-string.mjs", 'a string "8"', 'a string "3"'],
  ["boxed numbers", "returns-boxed-number.mjs", "a boxed number (new Number(8))", "a boxed number (new Number(3))"],
  ["one-element arrays", "returns-one-element-array.mjs", "an array of shape [1]", "an array of shape [1, 1]"],
  ["BigInts", "returns-bigint.mjs", "a BigInt (8n)", "a BigInt (3n)"],
  ["NaN", "returns-nan.mjs", "NaN", "NaN"],
  ["Infinity and -Infinity", "returns-infinities.mjs", "Infinity", "-Infinity"],
  ["Proxies posing as a number or an array", "returns-proxy.mjs", "an instance of Number", "an array of shape [1]"],
  ["objects whose valueOf flips", "returns-flipping-valueof.mjs", "an object", "an object"],
];
for (const [what, file, forward, backward] of lies) {
  t.test(`a result that lies about being a number (${what}) fails as the wrong type`, async (t) => {
    const { feedback } = await submit(t, app, hostile(file), {}, env);
    t.equal(feedback.status, "graded");
    t.equal(byId(feedback, "forward-notebook")?.status, "failed");
    t.match(byId(feedback, "forward-notebook")?.detail, `Wrong type: expected a finite number, received ${forward}`);
    t.equal(byId(feedback, "backward-notebook")?.status, "failed");
    t.match(byId(feedback, "backward-notebook")?.detail, `Wrong type: expected a finite number, received ${backward}`);
    for (const hidden of [...hiddenTests(feedback, "forward_propagation"), ...hiddenTests(feedback, "backward_propagation")]) {
      t.equal(hidden.status, "failed", `${hidden.id} fails too`);
    }
    t.equal(score(feedback, "forward_propagation"), 0);
    t.equal(score(feedback, "backward_propagation"), 0);
    await honestStillScores100(t, app, env);
  });
}
