import type { Snapshot, TaggedSnapshot } from "../sandbox/outcomes.js";
import type { ValueType } from "../packs/types.js";

/**
 * Helpers over two kinds of values: expected values (plain JSON from case files) and received
 * values (Snapshots from the sandbox, where non-JSON things are tagged objects).
 */

function isTagged(value: unknown): value is TaggedSnapshot {
  return typeof value === "object" && value !== null && !Array.isArray(value) && typeof (value as { $?: unknown }).$ === "string";
}

/**
 * JSON has no NaN or ±Infinity, so case files write them {"$number": "NaN" | "Infinity" | "-Infinity"}
 * (in arguments and in expected values; the prelude decodes arguments inside the sandbox).
 */
export type EncodedNonFinite = { $number: "NaN" | "Infinity" | "-Infinity" };
export const NON_FINITE_NAMES: readonly string[] = ["NaN", "Infinity", "-Infinity"];

/** Whether a case file's value is an encoded non-finite number: exactly {"$number": one of the three names}. */
export function isEncodedNonFinite(value: unknown): value is EncodedNonFinite {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === "$number" && NON_FINITE_NAMES.includes((value as { $number: unknown }).$number as string);
}

/** A non-finite number on either side: encoded in a case file, or tagged by the sandbox. */
function isNonFinite(value: unknown): boolean {
  return isEncodedNonFinite(value) || (isTagged(value) && value.$ === "number");
}

/** Whether an expected value holds an encoded non-finite number anywhere. */
export function containsNonFinite(value: unknown): boolean {
  if (isEncodedNonFinite(value)) return true;
  if (Array.isArray(value)) return value.some(containsNonFinite);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsNonFinite);
  return false;
}

/**
 * Shape of a rectangular nested array of finite numbers ([] for a number); undefined otherwise.
 * With `nonFinite`, NaN and ±Infinity (encoded or tagged) count as numbers: only where a case expects them.
 */
export function shapeOf(value: unknown, nonFinite = false): number[] | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? [] : undefined;
  if (nonFinite && isNonFinite(value)) return [];
  if (!Array.isArray(value)) return undefined;
  if (value.length === 0) return [0];
  const inner = shapeOf(value[0], nonFinite);
  if (inner === undefined) return undefined;
  for (let i = 1; i < value.length; i++) {
    const other = shapeOf(value[i], nonFinite);
    if (other === undefined || other.length !== inner.length || other.some((d, j) => d !== inner[j])) return undefined;
  }
  return [value.length, ...inner];
}

/** The type an expected value (plain JSON) has, in the vocabulary of case files. */
export function expectedType(value: unknown): ValueType | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? "number" : undefined;
  if (isEncodedNonFinite(value)) return "number";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  if (value === null) return "null";
  if (Array.isArray(value)) return shapeOf(value, true) !== undefined ? "array" : undefined;
  if (typeof value === "object") return "object";
  return undefined;
}

/**
 * The type a received value has, or undefined when it is none of the gradable types. NaN and ±Infinity
 * are numbers only with `nonFinite` (when the case expects such a number).
 */
export function receivedType(value: Snapshot, nonFinite = false): ValueType | undefined {
  if (typeof value === "number") return "number";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  if (value === null) return "null";
  if (Array.isArray(value)) return shapeOf(value, nonFinite) !== undefined ? "array" : undefined;
  if (nonFinite && value.$ === "number") return "number";
  return value.$ === "object" ? "object" : undefined;
}

/** Every number in a (possibly nested) value. */
export function leaves(value: unknown): number[] {
  if (typeof value === "number") return [value];
  if (Array.isArray(value)) return value.flatMap(leaves);
  return [];
}

const MAX_DISPLAY = 300;

function clip(text: string): string {
  return text.length > MAX_DISPLAY ? `${text.slice(0, MAX_DISPLAY)}…` : text;
}

function displayPlain(value: unknown): string {
  if (typeof value === "number") return Object.is(value, -0) ? "0" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(displayPlain).join(", ")}]`;
  if (isEncodedNonFinite(value)) return value.$number;
  if (isTagged(value)) return displayTagged(value);
  if (typeof value === "object" && value !== null) {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${displayPlain(v)}`).join(", ")}}`;
  }
  return String(value);
}

function displayTagged(value: TaggedSnapshot): string {
  switch (value.$) {
    case "object": return displayPlain(value.v);
    case "number": return value.v;
    case "bigint": return `${value.v}n`;
    case "boxed": return `new ${value.type[0]?.toUpperCase()}${value.type.slice(1)}(${value.type === "string" ? JSON.stringify(value.v) : value.v})`;
    case "instance": return `[${value.class}]`;
    case "function": return `[Function${value.name ? `: ${value.name}` : ""}]`;
    case "undefined": return "undefined";
    case "symbol": return "Symbol()";
    case "hole": return "<empty>";
    case "accessor": return "[Getter]";
    case "cycle": return "[Circular]";
  }
}

/** A short, readable rendering of an expected or received value. */
export function display(value: unknown): string {
  return clip(displayPlain(value));
}

/** What kind of thing a received value is, for "expected X, received Y" messages. */
export function describeKind(value: Snapshot): string {
  if (typeof value === "number") return "a number";
  if (typeof value === "string") return `a string ${clip(JSON.stringify(value))}`;
  if (typeof value === "boolean") return `a boolean (${value})`;
  if (value === null) return "null";
  if (Array.isArray(value)) {
    const shape = shapeOf(value);
    if (shape !== undefined) return `an array of shape [${shape.join(", ")}]`;
    const bad = firstNonNumber(value);
    return bad === undefined ? "a ragged array" : `an array containing ${describeKind(bad.value)} at ${bad.path}`;
  }
  switch (value.$) {
    case "object": return "an object";
    case "number": return value.v;
    case "bigint": return `a BigInt (${value.v}n)`;
    case "boxed": return `a boxed ${value.type} (${displayTagged(value)})`;
    case "instance": return value.class === "Promise" ? "a Promise" : `an instance of ${value.class}`;
    case "function": return "a function";
    case "undefined": return "undefined";
    case "symbol": return "a symbol";
    case "hole": return "an empty array slot";
    case "accessor": return "a getter";
    case "cycle": return "a circular reference";
  }
}

function firstNonNumber(value: Snapshot[], path = ""): { value: Snapshot; path: string } | undefined {
  for (let i = 0; i < value.length; i++) {
    const item = value[i] as Snapshot;
    const here = `${path}[${i}]`;
    if (Array.isArray(item)) {
      const inner = firstNonNumber(item, here);
      if (inner !== undefined) return inner;
    } else if (typeof item !== "number") {
      return { value: item, path: here };
    }
  }
  return undefined;
}

/**
 * A received value as plain JSON, when it is one (numbers, strings, booleans, null, arrays, plain
 * objects; NaN and ±Infinity in their {"$number": …} encoding); undefined when it contains anything
 * else (a BigInt, a function…), which cannot be an expected value.
 */
export function plainJson(value: Snapshot): { value: unknown } | undefined {
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value) {
      const plain = plainJson(item);
      if (plain === undefined) return undefined;
      items.push(plain.value);
    }
    return { value: items };
  }
  if (value !== null && typeof value === "object") {
    if (value.$ === "number") return { value: { $number: value.v } };
    if (value.$ !== "object") return undefined;
    const entries: Array<[string, unknown]> = [];
    for (const [key, item] of Object.entries(value.v)) {
      const plain = plainJson(item);
      if (plain === undefined) return undefined;
      entries.push([key, plain.value]);
    }
    return { value: Object.fromEntries(entries) };
  }
  return { value };
}
