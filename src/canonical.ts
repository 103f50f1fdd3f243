import { createHash } from "node:crypto";

// Hash input is handed to the hash in chunks of this many parts, not one string per value.
const HASH_BATCH = 4096;

/**
 * The SHA-256 of a JSON value's canonical form. Object keys are sorted, so that the same value
 * serialised with its keys in another order (a platform that re-serialises its retries) hashes the
 * same; -0 stays distinct from 0, so that two values hash alike exactly when they are deeply equal
 * (what the pack check for repeated cases needs). The walk keeps its own stack instead of recursing,
 * so a value nested thousands of levels deep (valid JSON, and a valid request) cannot overflow the
 * call stack; its cost is linear in the value's size, plus sorting each object's keys.
 */
export function canonicalHash(value: unknown): string {
  const hash = createHash("sha256");
  const parts: string[] = [];
  // Pending work, last first: a value to encode, or a literal piece of the encoding.
  const stack: Array<{ value: unknown } | string> = [{ value }];
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown } | string;
    if (typeof item === "string") {
      parts.push(item);
    } else {
      const v = item.value;
      if (v === null || v === undefined || typeof v === "function" || typeof v === "symbol") parts.push("null");
      else if (typeof v === "string") parts.push(JSON.stringify(v));
      else if (typeof v === "number") parts.push(Object.is(v, -0) ? "-0" : Number.isFinite(v) ? JSON.stringify(v) : "null");
      else if (typeof v === "boolean") parts.push(v ? "true" : "false");
      else if (typeof v === "bigint") parts.push(`${v}n`);
      else if (Array.isArray(v)) {
        stack.push("]");
        for (let i = v.length - 1; i >= 0; i--) {
          stack.push({ value: v[i] });
          if (i > 0) stack.push(",");
        }
        stack.push("[");
      } else {
        const record = v as Record<string, unknown>;
        // As JSON.stringify: a property whose value is undefined (or a function) is absent.
        const keys = Object.keys(record).filter((k) => record[k] !== undefined && typeof record[k] !== "function").sort();
        stack.push("}");
        for (let i = keys.length - 1; i >= 0; i--) {
          const key = keys[i] as string;
          stack.push({ value: record[key] });
          stack.push(`${i > 0 ? "," : ""}${JSON.stringify(key)}:`);
        }
        stack.push("{");
      }
    }
    if (parts.length >= HASH_BATCH) hash.update(parts.splice(0).join(""));
  }
  hash.update(parts.join(""));
  return hash.digest("hex");
}
