import type { FastifyInstance } from "fastify";
import request from "supertest";
import { readdirSync } from "node:fs";
import path from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import { root } from "../helpers/app.js";
import { packFile, packMutant, readRepoFile } from "../helpers/files.js";
import type { ResultFormat } from "../../src/formats/index.js";

/**
 * Shared by the format tests (test/formats/*.test.ts): submitting in a format, each format's schema,
 * the submissions every format is tried on, and what of the hidden cases must never appear.
 */

export const reference = packFile("reference/solution.mjs");
/** Passes every public test and fails the 5 hidden tests of gradient_check_n. */
export const failsOnlyHidden = packMutant("hardcoded-gradient-check-n");
export const syntaxError = "export function forward_propagation(x, theta) {\n  return theta * x\n}\nexport function backward_propagation(x, {\n";
/** Loads, then throws at top level: a rejection at run time, not at compile time. */
export const throwsAtTopLevel = 'export const forward_propagation = (x, theta) => theta * x;\nthrow new RangeError("no way");\n';

export async function submitAs(app: FastifyInstance, format: ResultFormat, source: string, extra: Record<string, unknown> = {}): Promise<request.Response> {
  return request(app.server).post(`/v1/submissions?format=${format}`).send({ assignment: "gradient-checking", source, ...extra });
}

export function formatSchema(format: Exclude<ResultFormat, "native">): Record<string, unknown> & { $id: string } {
  return JSON.parse(readRepoFile("submissions-schema", "formats", `${format}.schema.json`)) as Record<string, unknown> & { $id: string };
}

const ajv = new Ajv({ allErrors: true, strict: false });

/** Validates a value against submissions-schema/formats/<format>.schema.json. */
export function formatValidator(format: Exclude<ResultFormat, "native">): ValidateFunction {
  const schema = formatSchema(format);
  return ajv.getSchema(schema.$id) ?? ajv.compile(schema);
}

interface CaseFile {
  id: string;
  visibility: "public" | "hidden";
  exercise: string;
  description?: string;
  args: unknown[];
  expect: Record<string, unknown>;
  messages?: Record<string, string>;
}

export const cases: Array<CaseFile & { file: string }> = readdirSync(path.join(root, "graders", "gradient-checking", "cases"))
  .filter((file) => file.endsWith(".json"))
  .sort()
  .map((file) => ({ ...(JSON.parse(packFile(`cases/${file}`)) as CaseFile), file }));

function numbers(value: unknown): number[] {
  if (typeof value === "number") return [value];
  if (Array.isArray(value)) return value.flatMap(numbers);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(numbers);
  return [];
}

/** A number worth looking for: not an integer small enough to be a score, a count or a line number. */
function distinctive(n: number): boolean {
  return !Number.isInteger(n) || Math.abs(n) >= 1000;
}

/**
 * The hidden cases' arguments and expected values that appear in no public case (arguments,
 * expectation or description), as strings: these must never appear in what a student receives.
 */
export function hiddenOnlyNumbers(): string[] {
  const publicCases = cases.filter((c) => c.visibility === "public");
  const publicText = publicCases.map((c) => c.description ?? "").join(" ");
  const publicNumbers = new Set(publicCases.flatMap((c) => numbers([c.args, c.expect])).map(String));
  const hidden = new Set(cases.filter((c) => c.visibility === "hidden").flatMap((c) => numbers([c.args, c.expect])).filter(distinctive).map(String));
  return [...hidden].filter((n) => !publicNumbers.has(n) && !publicText.includes(n));
}

/** The hidden cases' own words: their ids (file names), descriptions and custom messages. */
export function hiddenWords(): string[] {
  return cases.filter((c) => c.visibility === "hidden").flatMap((c) => [c.id, c.file.replace(/\.json$/, ""), c.description ?? "", ...Object.values(c.messages ?? {})]).filter((w) => w !== "");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Which hidden-only numbers and hidden words occur in a text. A number counts only as a whole token
 * (0.1 is not found in 0.125), and grading ids and content hashes are blanked first, so that hex digits
 * cannot make a number appear by chance.
 */
export function leaks(text: string, secrets = { numbers: hiddenOnlyNumbers(), words: hiddenWords() }): string[] {
  const blanked = text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>").replace(/\b[0-9a-f]{16}\b/g, "<hash>")
    // Durations are measurements of public calls, not case data (a public test may take 1.5 ms).
    .replace(/"(durationMs|execution_time)":[0-9.e+-]+/g, '"$1":<ms>');
  const found = secrets.numbers.filter((n) => new RegExp(`(?<![0-9.])${escapeRegExp(n)}(?![0-9])`).test(blanked));
  return [...found, ...secrets.words.filter((w) => blanked.includes(w))];
}

/** Whether a text claims that every test passed. */
export function claimsAllPassed(text: string): boolean {
  return /all tests passed/i.test(text);
}

/**
 * Why a text is not well-formed XML with a single root element, or undefined when it is: what the
 * Open edX LMS checks before it accepts an external grader's msg. Enough XML for HTML fragments:
 * elements with double-quoted attributes, text, and the five named entities or numeric ones.
 */
export function xmlProblem(text: string): string | undefined {
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(text)) return "a code point XML 1.0 forbids";
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)) return "a lone surrogate";
  const token = /<(\/?)([A-Za-z][\w-]*)((?:\s+[\w-]+="[^"<&]*(?:&(?:amp|lt|gt|quot|apos|#\d+);[^"<&]*)*")*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|apos|#\d+);)/g;
  const stack: string[] = [];
  let roots = 0;
  let last = 0;
  for (const match of text.matchAll(token)) {
    const between = text.slice(last, match.index);
    if (stack.length === 0 && between.trim() !== "") return `text outside the root element: ${between.trim().slice(0, 40)}`;
    last = match.index + match[0].length;
    if (match[0] === "<") return `a bare < at ${match.index}`;
    if (match[0] === "&") return `a bare & at ${match.index}`;
    const [, closing, name, , selfClosing] = match;
    if (closing === "/") {
      if (stack.pop() !== name) return `</${name}> closes nothing open`;
    } else {
      if (stack.length === 0) roots += 1;
      if (selfClosing !== "/") stack.push(name ?? "");
    }
  }
  if (text.slice(last).trim() !== "") return "text after the root element";
  if (stack.length > 0) return `<${stack.join(">, <")}> not closed`;
  return roots === 1 ? undefined : `${roots} root elements`;
}
