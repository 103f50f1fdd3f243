import t from "tap";
import { check, describeExpectation } from "../../src/grading/compare.js";
import type { Snapshot } from "../../src/sandbox/outcomes.js";

const number = { type: "number" as const };

t.test("a number passes within |received - expected| <= atol + rtol * |expected|, and fails just outside", async (t) => {
  t.ok(check({ value: 100, rtol: 1e-3 }, 100.1).pass);
  t.notOk(check({ value: 100, rtol: 1e-3 }, 100.1000001).pass);
  t.ok(check({ value: 0, atol: 1e-8 }, 1e-8).pass);
  t.notOk(check({ value: 0, atol: 1e-8 }, 1.0000001e-8).pass);
  t.ok(check({ value: 1e-7, rtol: 1e-5, atol: 1e-8 }, 1.09e-7).pass, "atol and rtol add up");
});

t.test("with no tolerance the comparison is exact, and -0 equals 0", async (t) => {
  t.ok(check({ value: 0 }, 0).pass);
  t.ok(check({ value: 8 }, 8).pass);
  t.notOk(check({ value: 8 }, 8.000000000000002).pass);
  t.ok(check({ value: -0 }, 0).pass);
});

t.test("the type is checked first and nothing is coerced", async (t) => {
  const lies: Array<[string, Snapshot]> = [
    ["a numeric string", "8"],
    ["a boxed number", { $: "boxed", type: "number", v: "8" }],
    ["a one-element array", [8]],
    ["a BigInt", { $: "bigint", v: "8" }],
    ["NaN", { $: "number", v: "NaN" }],
    ["Infinity", { $: "number", v: "Infinity" }],
    ["-Infinity", { $: "number", v: "-Infinity" }],
    ["an object with valueOf", { $: "object", v: { valueOf: { $: "function" as const, name: "valueOf" } } }],
    ["undefined", { $: "undefined" }],
    ["a Promise", { $: "instance", class: "Promise" }],
  ];
  for (const [what, value] of lies) {
    const result = check({ ...number, value: 8 }, value);
    t.equal(result.pass ? "pass" : result.kind, "type", `${what} is the wrong type`);
  }
  t.match(check({ value: 8 }, "8"), { pass: false, reason: 'expected a finite number, received a string "8"' });
});

t.test("anyOf passes when any value matches, with the same tolerance", async (t) => {
  const expect = { type: "number" as const, anyOf: [0.2850931567761623, 1.1890913024229996e-7], rtol: 1e-5, atol: 1e-8 };
  t.ok(check(expect, 0.28509315677616237).pass);
  t.ok(check(expect, 1.1890913025888268e-7).pass);
  t.notOk(check(expect, 0.1734).pass);
  t.notOk(check(expect, 0).pass, "0 is more than atol away from 1.19e-7");
});

t.test("arrays are compared element by element after their shape", async (t) => {
  const expect = { value: [[1, 2], [3, 4]], atol: 1e-9 };
  t.ok(check(expect, [[1, 2], [3, 4 + 1e-10]]).pass);
  t.match(check(expect, [[1, 2], [3, 5]]), { pass: false, kind: "value", reason: /first difference at \[1\]\[0\]|first difference at \[1\]\[1\]/ });
  t.match(check(expect, [1, 2, 3, 4]), { pass: false, kind: "type", reason: /shape \[2, 2\], received an array of shape \[4\]/ });
  t.match(check(expect, [[1, 2], [3, { $: "number", v: "NaN" }]]), { pass: false, kind: "type", reason: /containing NaN at \[1\]\[1\]/ });
  t.match(check({ type: "array", shape: [47, 1] }, [[1]]), { pass: false, kind: "type" });
});

t.test("ranges apply to every number of the result", async (t) => {
  t.ok(check({ greaterThan: 0, lessThan: 1 }, [[0.5], [0.25]]).pass);
  t.match(check({ greaterThan: 0, lessThan: 1 }, [[0.5], [1]]), { pass: false, kind: "value", reason: /1, which is not less than 1/ });
  t.match(check({ lessThan: 2e-7 }, 3e-7), { pass: false, kind: "value" });
  t.ok(check({ atLeast: 0, atMost: 1 }, [[0], [1]]).pass, "atLeast and atMost include their bound");
  t.match(check({ atLeast: 0 }, [[-1e-300]]), { pass: false, reason: /which is not at least 0/ });
  t.match(check({ atMost: 1 }, "0.5"), { pass: false, kind: "type", reason: /expected a finite number or an array of numbers/ });
});

t.test("a reference expectation compares with the reference's value", async (t) => {
  t.ok(check({ reference: true, rtol: 1e-12 }, 0.5, 0.5).pass);
  t.notOk(check({ reference: true, rtol: 1e-12 }, 0.6, 0.5).pass);
});

t.test("objects must have the same keys and matching values", async (t) => {
  const expect = { value: { a: 1, b: [1, 2] } };
  t.ok(check(expect, { $: "object", v: { a: 1, b: [1, 2] } }).pass);
  t.notOk(check(expect, { $: "object", v: { a: 1, b: [1, 2], c: 3 } }).pass);
  t.notOk(check(expect, { $: "object", v: { a: 1, b: { $: "accessor" } } }).pass, "a getter is not a value");
});

t.test("the expectation reads as a sentence for students", async (t) => {
  t.equal(describeExpectation({ type: "number", value: 8 }), "a finite number equal to 8 (exactly)");
  t.equal(describeExpectation({ type: "number", anyOf: [1, 2], rtol: 1e-5, atol: 1e-8 }), "a finite number equal to one of 1, 2 (rtol 1e-5, atol 1e-8)");
  t.equal(describeExpectation({ type: "array", shape: [2, 1], greaterThan: 0 }), "an array of numbers of shape [2, 1] greater than 0");
});
