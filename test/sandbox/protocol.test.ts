import t from "tap";
import { WORKER_TEXT_BOUNDS } from "../../src/sandbox/constants.js";
import { callOutcomeSchema, workerLoadOutcomeSchema } from "../../src/sandbox/outcomes.js";
import { isWorkerMessage } from "../../src/sandbox/protocol.js";

const loaded = (outcome: unknown) => ({ type: "loaded", jobId: "j", outcome, output: "", dropped: 0 });
const call = (outcome: unknown) => ({ type: "call", jobId: "j", index: 0, outcome, output: "", dropped: 0, ms: 1 });
const error = { name: "TypeError", message: "x is not a function", stack: "TypeError: x is not a function\n    at file:///submission.mjs:3:5" };

t.test("a worker that says the module threw, without the error, is refused (it used to end in a 500)", async (t) => {
  t.notOk(isWorkerMessage(loaded({ kind: "threw" })));
  t.notOk(isWorkerMessage(loaded({ kind: "threw", error: { name: "TypeError" } })), "an error without message and stack");
  t.ok(isWorkerMessage(loaded({ kind: "threw", error })));
});

t.test("every load and call outcome a worker sends must carry the fields of its kind", async (t) => {
  for (const [what, schema, wrap] of [["load", workerLoadOutcomeSchema, loaded], ["call", callOutcomeSchema, call]] as const) {
    for (const variant of schema.anyOf) {
      const kind = variant.properties.kind.const;
      const needed = (variant.required ?? []).filter((name: string) => name !== "kind");
      t.equal(isWorkerMessage(wrap({ kind })), needed.length === 0, `a ${what} outcome '${kind}' alone is ${needed.length === 0 ? "accepted" : `refused: it needs ${needed.join(", ")}`}`);
    }
  }
  t.notOk(isWorkerMessage(loaded({ kind: "unsupported-typescript", message: "enum", line: 1, column: 1 })), "only the service makes unsupported-typescript");
  t.notOk(isWorkerMessage(call({ kind: "pending" })), "an unknown kind");
  t.ok(isWorkerMessage(loaded({ kind: "syntax-error", message: "Unexpected token", line: 2, column: 3 })));
  t.ok(isWorkerMessage(call({ kind: "not-run", reason: "skipped" })));
  t.notOk(isWorkerMessage(call({ kind: "not-run", reason: "bored" })));
});

t.test("a returned value must be a snapshot as the prelude encodes it", async (t) => {
  t.ok(isWorkerMessage(call({ kind: "value", value: [1, [2, { $: "number", v: "NaN" }], { $: "object", v: { a: { $: "undefined" } } }] })));
  t.ok(isWorkerMessage(call({ kind: "value", value: { $: "boxed", type: "string", v: "s" } })));
  t.notOk(isWorkerMessage(call({ kind: "value", value: { a: 1 } })), "a raw object is never sent: objects are tagged");
  t.notOk(isWorkerMessage(call({ kind: "value", value: [{ $: "number", v: "1e999" }] })), "a tagged number that is not NaN or an infinity");
  t.notOk(isWorkerMessage(call({ kind: "value" })), "a value outcome without its value");
});

t.test("the text in a worker's message is bounded", async (t) => {
  const long = "x".repeat(WORKER_TEXT_BOUNDS.text + 1);
  t.notOk(isWorkerMessage(call({ kind: "threw", during: "call", error: { ...error, stack: long } })));
  t.notOk(isWorkerMessage(call({ kind: "threw", during: "call", error: { ...error, name: "x".repeat(WORKER_TEXT_BOUNDS.errorName + 1) } })));
  t.notOk(isWorkerMessage(loaded({ kind: "link-error", message: long })));
  t.ok(isWorkerMessage(loaded({ kind: "link-error", message: long.slice(1) })));
});
