import type { Snapshot, TaggedSnapshot } from "../sandbox/outcomes.js";
import type { ValueType } from "../packs/types.js";

/**
 * Helpers over two kinds of values: expected values (plain JSON from case files) and received
 * values (Snapshots from the sandbox, where non-JSON things are tagged objects).
 */

function isTagged(value: unknown): value is TaggedSnapshot {
  return typeof value === "object" && value !== null && !Array.isArray(value) && typeof (value as { $?: unknown }).$ === "string";
}

/** Shape of a rectangular nested array of finite numbers ([] for a number); undefined otherwise. */
export function shapeOf(value: unknown): number[] | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? [] : undefined;
  if (!Array.isArray(value)) return undefined;
  if (value.length === 0) return [0];
  const inner = shapeOf(value[0]);
  if (inner === undefined) return undefined;
  for (let i = 1; i < value.length; i++) {
    const other = shapeOf(value[i]);
    if (other === undefined || other.length !== inner.length || other.some((d, j) => d !== inner[j])) return undefined;
  }
  return [value.length, ...inner];
}

/** The type an expected value (plain JSON) has, in the vocabulary of case files. */
export function expectedType(value: unknown): ValueType | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? "number" : undefined;
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  if (value === null) return "null";
  if (Array.isArray(value)) return shapeOf(value) !== undefined ? "array" : undefined;
  if (typeof value === "object") return "object";
  return undefined;
}

/** The type a received value has, or undefined when it is none of the gradable types. */
export function receivedType(value: Snapshot): ValueType | undefined {
  if (typeof value === "number") return "number";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  if (value === null) return "null";
  if (Array.isArray(value)) return shapeOf(value) !== undefined ? "array" : undefined;
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
 * A received value as plain JSON, when it is one (finite numbers, strings, booleans, null, arrays,
 * plain objects); undefined when it contains anything else (NaN, a BigInt, a function…), which cannot
 * be an expected value.
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
