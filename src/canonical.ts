import { createHash } from "node:crypto";

// The text is handed on in chunks of this many parts, not one string per value.
const HASH_BATCH = 8192;

/** A JSON value that is not an array or object, as JSON.stringify writes it (-0 is 0, like JSON's). */
function scalar(v: unknown): string {
  switch (typeof v) {
    case "string": return JSON.stringify(v);
    case "number": return Number.isFinite(v) ? String(v === 0 ? 0 : v) : "null";
    case "boolean": return v ? "true" : "false";
    default: return "null";
  }
}

function isContainer(v: unknown): v is object {
  return typeof v === "object" && v !== null;
}

/**
 * Writes a JSON value's canonical text in chunks: its JSON text with every object's keys sorted. The
 * walk keeps its own stack instead of recursing, so a value nested thousands of levels deep (valid
 * JSON, and a valid request) cannot overflow the call stack, as JSON.stringify does; its cost is linear
 * in the value's size, plus sorting each object's keys.
 */
function writeCanonical(value: unknown, emit: (chunk: string) => void): void {
  const parts: string[] = [];
  // Pending work, last first: a piece of the text (a string), or an array or object to expand.
  const stack: Array<string | object> = [isContainer(value) ? value : scalar(value)];
  while (stack.length > 0) {
    const item = stack.pop() as string | object;
    if (typeof item === "string") {
      parts.push(item);
      if (parts.length >= HASH_BATCH) emit(parts.splice(0).join(""));
      continue;
    }
    if (Array.isArray(item)) {
      stack.push("]");
      for (let i = item.length - 1; i >= 0; i--) {
        const v: unknown = item[i];
        // Undefined and functions are null in an array, as JSON.stringify writes them.
        stack.push(isContainer(v) ? v : scalar(v));
        if (i > 0) stack.push(",");
      }
      stack.push("[");
    } else {
      const record = item as Record<string, unknown>;
      // As JSON.stringify: a property whose value is undefined (or a function) is absent.
      const keys = Object.keys(record).filter((k) => record[k] !== undefined && typeof record[k] !== "function").sort();
      stack.push("}");
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        const v = record[key];
        stack.push(isContainer(v) ? v : scalar(v));
        stack.push(`${i > 0 ? "," : ""}${JSON.stringify(key)}:`);
      }
      stack.push("{");
    }
  }
  emit(parts.join(""));
}

/**
 * The SHA-256 of a JSON value's canonical form, so that the same value serialised with its keys in
 * another order (a platform that re-serialises its retries) hashes the same, and two values hash alike
 * exactly when they are equal as JSON (0 and -0 are the same JSON number).
 */
export function canonicalHash(value: unknown): string {
  const hash = createHash("sha256");
  writeCanonical(value, (chunk) => hash.update(chunk));
  return hash.digest("hex");
}

/** A JSON value's canonical text (keys sorted), at any depth: what the store keeps of a request's metadata. */
export function canonicalJson(value: unknown): string {
  const chunks: string[] = [];
  writeCanonical(value, (chunk) => chunks.push(chunk));
  return chunks.join("");
}
