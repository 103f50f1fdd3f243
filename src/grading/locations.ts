import { SUBMISSION_URL } from "../sandbox/constants.js";
import type { ErrorKind } from "./feedback.js";

/**
 * Where in the student's source things happened. The submission is compiled under SUBMISSION_URL,
 * so its frames are the ones that name it; TypeScript is stripped to JavaScript with every type
 * replaced by blanks, so the same line and column point into the TypeScript the student wrote.
 */

const escaped = SUBMISSION_URL.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const FRAME = new RegExp(`${escaped}:(\\d+):(\\d+)`);
const MAX_FRAMES = 10;
const MAX_FRAME_CHARS = 200;

/** Line and column of the first stack frame in the submission. */
export function locate(stack: string): { line?: number; column?: number } {
  const match = FRAME.exec(stack);
  return match === null ? {} : { line: Number(match[1]), column: Number(match[2]) };
}

/** The stack's frames that are in the submission, with its URL replaced by the student's file name. */
export function studentStack(stack: string, fileName: string): string {
  return stack
    .split("\n")
    .filter((line) => /^\s*at\s/.test(line) && FRAME.test(line))
    .slice(0, MAX_FRAMES)
    .map((line) => `    ${line.trim().replace(SUBMISSION_URL, fileName).slice(0, MAX_FRAME_CHARS)}`)
    .join("\n");
}

const KINDS: Record<string, ErrorKind> = {
  SyntaxError: "syntax_error",
  ReferenceError: "reference_error",
  TypeError: "type_error",
  RangeError: "range_error",
};

/** The kind of a thrown error, from its name (anything else, including non-Errors, is an "exception"). */
export function errorKindOf(name: string): ErrorKind {
  return Object.hasOwn(KINDS, name) ? (KINDS[name] as ErrorKind) : "exception";
}

/** 1-based line and column of a character offset. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/** Where the submission imports `specifier` (the first quoted occurrence after an import or export keyword). */
export function findImport(source: string, specifier: string): { line?: number; column?: number } {
  const quoted = specifier.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const match = new RegExp(`\\b(?:import|export)\\b[^;]*?(["'])${quoted}\\1`, "s").exec(source);
  if (match === null) return {};
  return lineColumn(source, match.index);
}
