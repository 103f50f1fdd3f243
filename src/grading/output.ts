import { RE2JS } from "re2js";
import type { OutputExpectation, OutputFromValue, OutputRule } from "../packs/types.js";
import type { Snapshot } from "../sandbox/outcomes.js";

/**
 * Expectations on what a call prints (case files' `output`). The checks run in the grading worker,
 * outside the isolate and after the call, because a hidden case's printed text must never leave the
 * worker: only the verdict does. Three kinds, at most one per case:
 * - `text`: the exact text;
 * - `pattern`: a regular expression, in RE2's syntax and run by re2js (linear time in the text, so no
 *   pack's pattern can backtrack catastrophically on a student's output), over at most
 *   PATTERN_INPUT_CHARS characters;
 * - `fromValue`: the text depends on the value the same call returned, declared as data: the first rule
 *   whose bound the returned number meets gives the template, else `otherwise`; `{value}` in the
 *   template is the number formatted like Python's str() (`python-str`, as the notebooks print it) or
 *   like JavaScript's String() (`javascript`).
 * Each console.log prints its line and a newline, so an expected text may leave out its final newline;
 * an empty text means nothing printed at all.
 */

/** Longest printed text a pattern is run on: longer output fails a pattern expectation. */
export const PATTERN_INPUT_CHARS = 16384;

/** Python's str() of a float, as the packs' helpers print it (the gradient-checking pack's gc_utils `str`). */
export function pythonStr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (Number.isSafeInteger(x)) return String(x);
  const sign = x < 0 ? "-" : "";
  const [mantissa = "", exponentText = "0"] = Math.abs(x).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${head}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const intDigits = exponent + 1;
  if (digits.length <= intDigits) return `${sign}${digits.padEnd(intDigits, "0")}.0`;
  return `${sign}${digits.slice(0, intDigits)}.${digits.slice(intDigits)}`;
}

/** The returned value as a number, when it is one (NaN and ±Infinity included). */
function numberOf(value: Snapshot | undefined): number | undefined {
  if (typeof value === "number") return value;
  if (value !== null && typeof value === "object" && !Array.isArray(value) && value.$ === "number") return Number(value.v);
  return undefined;
}

function meets(rule: OutputRule, x: number): boolean {
  return (rule.greaterThan === undefined || x > rule.greaterThan)
    && (rule.atLeast === undefined || x >= rule.atLeast)
    && (rule.lessThan === undefined || x < rule.lessThan)
    && (rule.atMost === undefined || x <= rule.atMost);
}

/** The exact text a `text` or `fromValue` expectation asks for, given the call's returned value; undefined for a pattern, or when the call returned no number. */
export function expectedOutputText(expect: OutputExpectation, value: Snapshot | undefined): string | undefined {
  if (expect.text !== undefined) return expect.text;
  if (expect.fromValue === undefined) return undefined;
  const x = numberOf(value);
  if (x === undefined) return undefined;
  const rule = expect.fromValue.when.find((r) => meets(r, x));
  const template = rule?.text ?? expect.fromValue.otherwise;
  const shown = expect.fromValue.format === "javascript" ? String(x) : pythonStr(x);
  return template.split("{value}").join(shown);
}

export function withoutFinalNewline(text: string): string {
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

/** Compiles a pack's pattern (RE2 syntax); throws with RE2's message when it is not one. */
export function compilePattern(pattern: string): RE2JS {
  return RE2JS.compile(pattern);
}

/**
 * Whether a call's printed text meets the expectation. `dropped`: lines the sandbox's output cap cut,
 * so the text is not the whole of what was printed and cannot pass.
 */
export function outputMatches(expect: OutputExpectation, printed: string, dropped: number, value: Snapshot | undefined): boolean {
  if (dropped > 0) return false;
  const text = withoutFinalNewline(printed);
  if (expect.pattern !== undefined) {
    if (text.length > PATTERN_INPUT_CHARS) return false;
    try {
      return compilePattern(expect.pattern).matcher(text).find();
    } catch {
      return false;
    }
  }
  const wanted = expectedOutputText(expect, value);
  if (wanted === undefined) return false;
  return printed === (wanted === "" || wanted.endsWith("\n") ? wanted : `${wanted}\n`);
}

/**
 * Control characters shown as escapes ("\x1b[93m…"), newlines kept, so a student sees the colour codes
 * their message lacks or has wrong. The formats strip control characters from student text: escapes
 * written out as plain characters survive that.
 */
export function visibleControls(text: string): string {
  let shown = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === "\n") shown += "\\n";
    else if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) shown += `\\x${code.toString(16).padStart(2, "0")}`;
    else shown += char;
  }
  return shown;
}

/** What the case expects to be printed, in words, for a public case's feedback. */
export function describeOutputExpectation(expect: OutputExpectation, value: Snapshot | undefined): string {
  if (expect.pattern !== undefined) return `printed text matching the pattern /${expect.pattern}/`;
  const wanted = expectedOutputText(expect, value);
  if (wanted === undefined) return "printed text that depends on the returned number (none was returned)";
  return `printed: "${visibleControls(withoutFinalNewline(wanted))}"`;
}

/** What a case expects to be printed, in words, before any call (the assignment's public description). */
export function describeOutputRule(expect: OutputExpectation): string {
  if (expect.pattern !== undefined) return `printed text matching the pattern /${expect.pattern}/`;
  if (expect.text !== undefined) return expect.text === "" ? "nothing printed" : `printed: "${visibleControls(withoutFinalNewline(expect.text))}"`;
  const rule = expect.fromValue as OutputFromValue;
  const bounds = (r: OutputRule) => [
    r.greaterThan !== undefined ? `greater than ${r.greaterThan}` : "",
    r.atLeast !== undefined ? `at least ${r.atLeast}` : "",
    r.lessThan !== undefined ? `less than ${r.lessThan}` : "",
    r.atMost !== undefined ? `at most ${r.atMost}` : "",
  ].filter(Boolean).join(" and ");
  const cases = rule.when.map((r) => `"${visibleControls(r.text)}" when the returned number is ${bounds(r)}`);
  const format = rule.format === "javascript" ? "JavaScript's String()" : "Python's str()";
  return `printed: ${cases.join(", ")}, else "${visibleControls(rule.otherwise)}", where {value} is the returned number as ${format} writes it`;
}
