/**
 * JSON for people: two-space indentation, but an array of plain values stays on one line, so a
 * matrix reads as rows ([[1, 2], [3, 4]] becomes one line per row).
 */
export function formatJson(value: unknown, indent = 0): string {
  const pad = "  ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.every((item) => item === null || typeof item !== "object")) return `[${value.map((item) => JSON.stringify(item)).join(", ")}]`;
    return `[\n${value.map((item) => `${pad}  ${formatJson(item, indent + 1)}`).join(",\n")}\n${pad}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    return `{\n${entries.map(([key, item]) => `${pad}  ${JSON.stringify(key)}: ${formatJson(item, indent + 1)}`).join(",\n")}\n${pad}}`;
  }
  return JSON.stringify(value);
}
