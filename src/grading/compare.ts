import type { Expectation, ValueType } from "../packs/types.js";
import type { Snapshot } from "../sandbox/outcomes.js";
import { containsNonFinite, describeKind, display, expectedType, isEncodedNonFinite, leaves, receivedType, shapeOf } from "./values.js";

/**
 * Checks a received value against a case's expectation. The rules, in order:
 * 1. the type first (a number is a finite number; an array is a rectangular array of finite numbers);
 *    nothing is ever coerced, and a value's methods are never called (the sandbox has already
 *    reduced it to data);
 * 2. the shape of an array;
 * 3. the value (or one of anyOf, or the reference's value): numbers within |a − b| ≤ atol + rtol·|b|,
 *    everything else exactly; -0 equals 0; an expected {"$number": "NaN"} (or ±Infinity) is met only by
 *    that very non-finite number, which is the right type only where the case expects one;
 * 4. the ranges lessThan / greaterThan (strict) and atMost / atLeast (inclusive), for every number.
 */

export type CheckResult =
  | { pass: true }
  | { pass: false; kind: "type" | "value"; reason: string };

const TYPE_NAMES: Record<ValueType, string> = {
  number: "a finite number",
  array: "an array of numbers",
  string: "a string",
  boolean: "a boolean",
  object: "an object",
  null: "null",
};

/** The expected value a case compares with, if any (for a reference case, the reference's value). */
export function expectedValues(expect: Expectation, referenceValue?: unknown): unknown[] | undefined {
  if (expect.value !== undefined) return [expect.value];
  if (expect.anyOf !== undefined) return expect.anyOf;
  if (expect.reference === true) return referenceValue === undefined ? undefined : [referenceValue];
  return undefined;
}

export function requiredType(expect: Expectation, referenceValue?: unknown): ValueType | undefined {
  if (expect.type !== undefined) return expect.type;
  const first = expectedValues(expect, referenceValue)?.[0];
  return first === undefined ? undefined : expectedType(first);
}

function requiredShape(expect: Expectation, type: ValueType | undefined, referenceValue?: unknown): number[] | undefined {
  if (expect.shape !== undefined) return expect.shape;
  if (type !== "array") return undefined;
  const first = expectedValues(expect, referenceValue)?.[0];
  return first === undefined ? undefined : shapeOf(first, true);
}

/** Whether the case expects NaN or ±Infinity somewhere: only then are they numbers of the right type. */
function expectsNonFinite(expect: Expectation, referenceValue?: unknown): boolean {
  return expectedValues(expect, referenceValue)?.some(containsNonFinite) ?? false;
}

/** Whether two values are equal, numbers within tolerance; returns where they first differ. */
export function sameValue(expected: unknown, received: Snapshot, rtol: number, atol: number, path = ""): { equal: true } | { equal: false; path: string } {
  if (isEncodedNonFinite(expected)) {
    const same = received !== null && typeof received === "object" && !Array.isArray(received) && received.$ === "number" && received.v === expected.$number;
    return same ? { equal: true } : { equal: false, path };
  }
  if (typeof expected === "number") {
    if (typeof received !== "number") return { equal: false, path };
    return Math.abs(received - expected) <= atol + rtol * Math.abs(expected) ? { equal: true } : { equal: false, path };
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(received) || received.length !== expected.length) return { equal: false, path };
    for (let i = 0; i < expected.length; i++) {
      const inner = sameValue(expected[i], received[i] as Snapshot, rtol, atol, `${path}[${i}]`);
      if (!inner.equal) return inner;
    }
    return { equal: true };
  }
  if (expected !== null && typeof expected === "object") {
    if (received === null || typeof received !== "object" || Array.isArray(received) || received.$ !== "object") return { equal: false, path };
    const keys = Object.keys(expected);
    const receivedKeys = Object.keys(received.v);
    if (keys.length !== receivedKeys.length) return { equal: false, path };
    for (const key of keys) {
      if (!(key in received.v)) return { equal: false, path: `${path}.${key}` };
      const inner = sameValue((expected as Record<string, unknown>)[key], received.v[key] as Snapshot, rtol, atol, `${path}.${key}`);
      if (!inner.equal) return inner;
    }
    return { equal: true };
  }
  return expected === received ? { equal: true } : { equal: false, path };
}

/** 1e-5 rather than JavaScript's 0.00001. */
function tolerance(value: number): string {
  return value !== 0 && Math.abs(value) < 1e-3 ? value.toExponential() : String(value);
}

export function toleranceText(expect: Expectation): string {
  const rtol = expect.rtol ?? 0;
  const atol = expect.atol ?? 0;
  if (rtol === 0 && atol === 0) return "exactly";
  return [rtol !== 0 ? `rtol ${tolerance(rtol)}` : "", atol !== 0 ? `atol ${tolerance(atol)}` : ""].filter(Boolean).join(", ");
}

/** The tolerance numbers are compared with, in words ("rtol 1e-12"), when the case compares numbers to values. */
export function toleranceUsed(expect: Expectation, referenceValue?: unknown): string | undefined {
  const type = requiredType(expect, referenceValue);
  if (expectedValues(expect, referenceValue) === undefined || (type !== "number" && type !== "array")) return undefined;
  return toleranceText(expect);
}

/** What the case expects, in words, for students (public cases only). */
export function describeExpectation(expect: Expectation, referenceValue?: unknown): string {
  const type = requiredType(expect, referenceValue);
  const shape = requiredShape(expect, type, referenceValue);
  const typeName = type === undefined ? "any value" : type === "number" && expectsNonFinite(expect, referenceValue) ? "a number" : TYPE_NAMES[type];
  const parts: string[] = [typeName];
  if (shape !== undefined && type === "array") parts.push(`of shape [${shape.join(", ")}]`);
  const values = expectedValues(expect, referenceValue);
  const numeric = type === "number" || type === "array";
  if (values !== undefined) {
    const shown = values.map(display).join(", ");
    const tolerance = numeric ? ` (${toleranceText(expect)})` : "";
    parts.push(values.length === 1 ? `equal to ${shown}${tolerance}` : `equal to one of ${shown}${tolerance}`);
  }
  if (expect.greaterThan !== undefined) parts.push(`greater than ${expect.greaterThan}`);
  if (expect.atLeast !== undefined) parts.push(`at least ${expect.atLeast}`);
  if (expect.lessThan !== undefined) parts.push(`less than ${expect.lessThan}`);
  if (expect.atMost !== undefined) parts.push(`at most ${expect.atMost}`);
  return parts.join(" ");
}

export function check(expect: Expectation, received: Snapshot, referenceValue?: unknown): CheckResult {
  const type = requiredType(expect, referenceValue);
  const nonFinite = expectsNonFinite(expect, referenceValue);
  if (type !== undefined && receivedType(received, nonFinite) !== type) {
    return { pass: false, kind: "type", reason: `expected ${nonFinite && type === "number" ? "a number" : TYPE_NAMES[type]}, received ${describeKind(received)}` };
  }
  const ranged = [expect.lessThan, expect.greaterThan, expect.atMost, expect.atLeast].some((bound) => bound !== undefined);
  if (type === undefined && ranged && receivedType(received) !== "number" && receivedType(received) !== "array") {
    return { pass: false, kind: "type", reason: `expected a finite number or an array of numbers, received ${describeKind(received)}` };
  }
  const shape = requiredShape(expect, type, referenceValue);
  if (shape !== undefined) {
    const got = shapeOf(received, nonFinite);
    if (got === undefined || got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      return { pass: false, kind: "type", reason: `expected shape [${shape.join(", ")}], received ${describeKind(received)}` };
    }
  }
  const rtol = expect.rtol ?? 0;
  const atol = expect.atol ?? 0;
  const values = expectedValues(expect, referenceValue);
  if (values !== undefined) {
    const results = values.map((value) => sameValue(value, received, rtol, atol));
    if (!results.some((r) => r.equal)) {
      const first = results[0];
      const where = values.length === 1 && first !== undefined && !first.equal && first.path !== "" ? ` (first difference at ${first.path})` : "";
      return { pass: false, kind: "value", reason: `received ${display(received)}${where}` };
    }
  }
  const numbers = leaves(received);
  const bounds: Array<[number | undefined, (n: number, bound: number) => boolean, string]> = [
    [expect.lessThan, (n, b) => n < b, "less than"],
    [expect.atMost, (n, b) => n <= b, "at most"],
    [expect.greaterThan, (n, b) => n > b, "greater than"],
    [expect.atLeast, (n, b) => n >= b, "at least"],
  ];
  for (const [bound, holds, words] of bounds) {
    if (bound === undefined) continue;
    const bad = numbers.find((n) => !holds(n, bound));
    if (bad !== undefined) return { pass: false, kind: "value", reason: `received ${display(bad)}, which is not ${words} ${bound}` };
  }
  return { pass: true };
}
