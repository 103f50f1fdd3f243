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

/**
 * Line and column of the first stack frame in the submission. A stack is the student's to write (any
 * thrown object may carry one), so its numbers are untrusted: kept only when they are safe integers
 * that point into `source` (when it is known), else dropped. "line Infinity" or "line 0" would break
 * the response schema or mislead the student.
 */
export function locate(stack: string, source?: string): { line?: number; column?: number } {
  const match = FRAME.exec(stack);
  if (match === null) return {};
  return checkedPosition(Number(match[1]), Number(match[2]), source);
}

/** The position if it is a real one (in `source` when given), else nothing. */
export function checkedPosition(line: unknown, column: unknown, source?: string): { line?: number; column?: number } {
  if (!isPositive(line)) return {};
  if (source !== undefined && source !== "") {
    const starts = lineStarts(source);
    if (line > starts.length) return {};
    const lineLength = (line < starts.length ? (starts[line] as number) - 1 : source.length) - (starts[line - 1] as number);
    if (!isPositive(column) || column > lineLength + 1) return { line };
    return { line, column };
  }
  return isPositive(column) ? { line, column } : { line };
}

function isPositive(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 1;
}

// One feedback checks many positions against the same source: its line starts are counted once.
let cachedSource: string | undefined;
let cachedStarts: number[] = [];

/** The offset where each line of `source` starts. */
function lineStarts(source: string): number[] {
  if (source === cachedSource) return cachedStarts;
  const starts = [0];
  for (let i = source.indexOf("\n"); i >= 0; i = source.indexOf("\n", i + 1)) starts.push(i + 1);
  cachedSource = source;
  cachedStarts = starts;
  return starts;
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

/**
 * Where the submission imports `specifier`: the first import or export keyword that a quoted
 * `specifier` follows with no ";" between them. This is what the regular expression
 * /\b(?:import|export)\b[^;]*?(["'])specifier\1/ finds, but in one pass: that expression retried the
 * rest of the statement from every keyword, so a comment of thousands of "export"s took seconds.
 */
export function findImport(source: string, specifier: string): { line?: number; column?: number } {
  const occurrences = quotedOccurrences(source, specifier);
  if (occurrences.length === 0) return {};
  let next = 0; // the next occurrence (its opening quote) not yet passed
  let keyword = -1; // the first keyword since the last ";"
  for (let i = 0; i < source.length && next < occurrences.length; i++) {
    while (next < occurrences.length && (occurrences[next] as number) < i) next++;
    if (occurrences[next] === i && keyword >= 0) return lineColumn(source, keyword);
    const c = source.charCodeAt(i);
    if (c === SEMICOLON) keyword = -1;
    else if (keyword < 0 && (c === LOWER_I || c === LOWER_E) && isKeywordAt(source, i)) keyword = i;
  }
  return {};
}

const SEMICOLON = 0x3b;
const LOWER_I = 0x69;
const LOWER_E = 0x65;

function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

/** "import" or "export" at `i`, as a whole word (the \b of a regular expression without the u flag). */
function isKeywordAt(source: string, i: number): boolean {
  if (!source.startsWith("import", i) && !source.startsWith("export", i)) return false;
  return (i === 0 || !isWordChar(source.charCodeAt(i - 1))) && (i + 6 >= source.length || !isWordChar(source.charCodeAt(i + 6)));
}

/** Offsets of the opening quote of every "specifier" and 'specifier' in `source`, in order (Knuth–Morris–Pratt: linear). */
function quotedOccurrences(source: string, specifier: string): number[] {
  const found: number[] = [];
  const m = specifier.length;
  if (m === 0) {
    for (let i = 0; i + 1 < source.length; i++) {
      const c = source[i];
      if ((c === '"' || c === "'") && source[i + 1] === c) found.push(i);
    }
    return found;
  }
  const fail = new Int32Array(m);
  for (let i = 1, k = 0; i < m; i++) {
    while (k > 0 && specifier[i] !== specifier[k]) k = fail[k - 1] as number;
    if (specifier[i] === specifier[k]) k++;
    fail[i] = k;
  }
  for (let i = 0, k = 0; i < source.length; i++) {
    while (k > 0 && source[i] !== specifier[k]) k = fail[k - 1] as number;
    if (source[i] === specifier[k]) k++;
    if (k === m) {
      const start = i - m + 1;
      const quote = source[start - 1];
      if ((quote === '"' || quote === "'") && source[i + 1] === quote) found.push(start - 1);
      k = fail[k - 1] as number;
    }
  }
  return found;
}
