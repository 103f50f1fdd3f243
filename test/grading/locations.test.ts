import t from "tap";
import { findImport, lineColumn, locate, studentStack } from "../../src/grading/locations.js";
import { SUBMISSION_URL } from "../../src/sandbox/constants.js";

// The source scanners run in the HTTP process on text the student chose, so their cost must be
// linear in it. Each is fuzzed with generated worst cases, bounded in size (256 KiB, the default
// SOURCE_KIB) and in time.

const SOURCE_BYTES = 256 * 1024;
// Linear scans of 256 KiB take milliseconds; this bound only catches a quadratic one (which takes seconds).
const GENEROUS_MS = 1500;

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The expression findImport used to run: its meaning is findImport's specification. */
function byRegex(source: string, specifier: string): { line?: number; column?: number } {
  const quoted = specifier.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const match = new RegExp(`\\b(?:import|export)\\b[^;]*?(["'])${quoted}\\1`, "s").exec(source);
  return match === null ? {} : lineColumn(source, match.index);
}

function fill(unit: string, bytes = SOURCE_BYTES): string {
  return unit.repeat(Math.floor(bytes / unit.length));
}

t.test("findImport finds what the old regular expression found, on thousands of generated sources", async (t) => {
  const next = random(11);
  const atoms = ["import", "export", "exports", "_import", " ", ";", '"', "'", "fs", "a", "\n", "/*", "*/", "//", "{", "}", "from", "é"];
  const specifiers = ["fs", "a", "", "a'a", "x;y", 'fs"', "import", "é"];
  let compared = 0;
  for (let n = 0; n < 20_000; n++) {
    let source = "";
    const length = Math.floor(next() * 16);
    for (let i = 0; i < length; i++) source += atoms[Math.floor(next() * atoms.length)];
    const specifier = specifiers[n % specifiers.length] as string;
    const expected = byRegex(source, specifier);
    const found = findImport(source, specifier);
    if (JSON.stringify(found) !== JSON.stringify(expected)) {
      t.fail(`findImport(${JSON.stringify(source)}, ${JSON.stringify(specifier)}) is ${JSON.stringify(found)}, not ${JSON.stringify(expected)}`);
      return;
    }
    compared++;
  }
  t.equal(compared, 20_000);
  t.same(findImport('// notes\nimport { readFileSync } from "fs";\n', "fs"), { line: 2, column: 1 });
});

t.test("findImport stays linear on pathological sources: repeated keywords, nested comments, long lines, near-misses of the specifier", async (t) => {
  const forbidden = 'import {readFileSync} from "fs"';
  const specifierPrefix = "a".repeat(5000);
  const cases: Array<{ name: string; source: string; specifier: string; expected: { line?: number; column?: number } }> = [
    // The report's case: 36,500 keywords in a comment, then the import after a ";".
    { name: "36,500 exports in a comment", source: `/*${"export ".repeat(36_500)}*/;${forbidden}`, specifier: "fs", expected: { line: 1, column: 255_506 } },
    { name: "keywords with no semicolon and no specifier", source: fill("import export "), specifier: "fs", expected: {} },
    { name: "nested comment openers", source: `${fill("/*import ", SOURCE_BYTES - 40)}*/;\n${forbidden}`, specifier: "fs", expected: { line: 2, column: 1 } },
    { name: "one long line of quotes", source: `import ${fill("\"'")}`, specifier: "fs", expected: {} },
    { name: "near-misses of a long specifier", source: `import ${fill(`"${specifierPrefix}b`, SOURCE_BYTES - 6000)}"${specifierPrefix}"`, specifier: specifierPrefix, expected: { line: 1, column: 1 } },
    { name: "a specifier made of repeats", source: `import ${fill("'a'a")}`, specifier: `a'a'a'a'a'a'a'a'a'b`, expected: {} },
    { name: "many short lines", source: fill("export\n;\n"), specifier: "fs", expected: {} },
  ];
  for (const { name, source, specifier, expected } of cases) {
    t.ok(source.length <= SOURCE_BYTES + 100, `${name}: within SOURCE_KIB`);
    const started = performance.now();
    const found = findImport(source, specifier);
    const ms = performance.now() - started;
    t.same(found, expected, name);
    t.ok(ms < GENEROUS_MS, `${name}: ${ms.toFixed(0)} ms`);
  }
});

t.test("a stack's line and column are kept only when they are safe integers inside the source", async (t) => {
  const source = "export function f() {\n  throw new Error('x');\n}\n";
  const frame = (line: string, column: string) => `Error: x\n    at f (${SUBMISSION_URL}:${line}:${column})`;
  t.same(locate(frame("2", "9"), source), { line: 2, column: 9 });
  t.same(locate(frame("9".repeat(400), "1"), source), {}, "a 400-digit line (Infinity) is dropped");
  t.same(locate(frame("9007199254740993", "1"), source), {}, "beyond the safe integers");
  t.same(locate(frame("0", "1"), source), {}, "line 0 is no line");
  t.same(locate(frame("5", "1"), source), {}, "a line past the end of the source");
  t.same(locate(frame("2", "0"), source), { line: 2 }, "column 0: the line is kept");
  t.same(locate(frame("2", "400"), source), { line: 2 }, "a column past the end of the line: the line is kept");
  t.same(locate(frame("2", "9".repeat(400)), undefined), { line: 2 }, "without the source, numbers are still checked");
});

t.test("locate and studentStack stay linear on huge forged stacks", async (t) => {
  const stacks = [
    `Error\n${fill(`    at f (${SUBMISSION_URL}:`)}`,
    `Error\n${fill(`${SUBMISSION_URL}:9999999:`)}`,
    `Error\n${fill("    at at at at ")}`,
    `Error\n${fill(`    at g (${SUBMISSION_URL}:1:1)\n`)}`,
  ];
  for (const [i, stack] of stacks.entries()) {
    const started = performance.now();
    locate(stack, "x");
    const shown = studentStack(stack, "submission.js");
    const ms = performance.now() - started;
    t.ok(shown.split("\n").length <= 10, "at most ten frames");
    t.ok(ms < GENEROUS_MS, `stack ${i}: ${ms.toFixed(0)} ms`);
  }
});
