import t from "tap";
import { canonicalHash } from "../src/canonical.js";

// The canonical hash names a request (Idempotency-Key) and a case's arguments (the pack check for
// repeated cases): equal JSON values hash alike whatever their key order, at any depth.

t.test("the same value with its keys in another order hashes the same; another value does not", async (t) => {
  const a = { assignment: "x", source: "s", limits: { callTimeoutMs: 10, outputKiB: 2 }, metadata: { user: { id: 1, tags: ["a", "b"] } } };
  const b = JSON.parse('{"metadata":{"user":{"tags":["a","b"],"id":1}},"limits":{"outputKiB":2,"callTimeoutMs":10},"source":"s","assignment":"x"}') as unknown;
  t.equal(canonicalHash(b), canonicalHash(a));
  const different: unknown[] = [
    { ...a, metadata: { user: { id: 1, tags: ["b", "a"] } } },
    { ...a, metadata: { user: { id: "1", tags: ["a", "b"] } } },
    { ...a, source: "s " },
    [a],
    { ...a, extra: null },
  ];
  for (const value of different) t.not(canonicalHash(value), canonicalHash(a), JSON.stringify(value).slice(0, 80));
  t.not(canonicalHash(["a,b"]), canonicalHash(["a", "b"]), "strings are quoted, so no two encodings meet");
  t.not(canonicalHash({ "a\":1,\"b": 2 }), canonicalHash({ a: 1, b: 2 }));
  t.equal(canonicalHash({ a: undefined, b: 1 }), canonicalHash({ b: 1 }), "an undefined property is absent, as in JSON");
  t.equal(canonicalHash([-0]), canonicalHash([0]), "-0 and 0 are the same JSON number");
  t.not(canonicalHash(["1"]), canonicalHash([1]));
  t.not(canonicalHash([null]), canonicalHash([]));
});

t.test("the canonical form is the JSON text with sorted keys", async (t) => {
  const { createHash } = await import("node:crypto");
  const sha = (text: string) => createHash("sha256").update(text).digest("hex");
  t.equal(canonicalHash({ b: [1, "x", true, null, { d: 1.5, c: -2e-7 }], a: "é\n\"" }), sha('{"a":"é\\n\\"","b":[1,"x",true,null,{"c":-2e-7,"d":1.5}]}'));
  t.equal(canonicalHash([undefined, Infinity]), sha("[null,null]"));
});

t.test("a value nested 100,000 levels deep hashes without overflowing the stack", async (t) => {
  const text = `${"[".repeat(100_000)}1${"]".repeat(100_000)}`;
  const deep = JSON.parse(text) as unknown;
  t.throws(() => JSON.stringify(deep), RangeError, "the recursive serialiser cannot");
  t.match(canonicalHash(deep), /^[0-9a-f]{64}$/);
  const objects = JSON.parse(`${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`) as unknown;
  t.not(canonicalHash(objects), canonicalHash(deep));
});
