import t from "tap";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describeOutputExpectation, expectedOutputText, outputMatches, PATTERN_INPUT_CHARS, pythonStr, visibleControls } from "../../src/grading/output.js";
import type { OutputExpectation } from "../../src/packs/types.js";
import { root } from "../helpers/app.js";

// The pack's own helper: the service's formatting of {value} must print numbers exactly as it does.
const gcUtils = await import(pathToFileURL(path.join(root, "graders", "gradient-checking", "helpers", "gc_utils.mjs")).href) as { str: (x: number) => string };

const notebook: OutputExpectation = {
  fromValue: {
    when: [{ greaterThan: 2e-7, text: "\u001b[93mThere is a mistake in the backward propagation! difference = {value}\u001b[0m" }],
    otherwise: "\u001b[92mYour backward propagation works perfectly fine! difference = {value}\u001b[0m",
    format: "python-str",
  },
};

t.test("{value} is written like Python's str(), exactly as the gradient-checking pack's str helper writes it", async (t) => {
  const numbers = [0, -0, 8, -3, 0.1, 0.5, 1e-4, 2.5e-5, 7.814075313343006e-11, 0.2850931567761623, 1.1890913024229996e-7, 0.00019025447957490783,
    123456.789, 1e15, 1e16, 1.5e16, 2 ** 53, 2 ** 53 + 2, -1.25e-300, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity];
  for (let i = 0; i < 2000; i++) numbers.push((Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 40 - 20));
  const differ = numbers.filter((x) => pythonStr(x) !== gcUtils.str(x));
  t.same(differ, [], "no number is written differently");
  t.equal(pythonStr(1.1890913024229996e-7), "1.1890913024229996e-07");
  t.equal(pythonStr(1e16), "1e+16");
});

t.test("a rule on the returned number picks the notebook's message on each side of 2e-7, with the number in it", async (t) => {
  t.equal(expectedOutputText(notebook, 0.2850931567761623), "\u001b[93mThere is a mistake in the backward propagation! difference = 0.2850931567761623\u001b[0m");
  t.equal(expectedOutputText(notebook, 1.1890913024229996e-7), "\u001b[92mYour backward propagation works perfectly fine! difference = 1.1890913024229996e-07\u001b[0m");
  t.equal(expectedOutputText(notebook, 2e-7), "\u001b[92mYour backward propagation works perfectly fine! difference = 2e-07\u001b[0m", "2e-7 itself is not above 2e-7");
  t.equal(expectedOutputText(notebook, "0.1"), undefined, "no number, no expected text");
  const printed = "\u001b[92mYour backward propagation works perfectly fine! difference = 7.814075313343006e-11\u001b[0m\n";
  t.ok(outputMatches(notebook, printed, 0, 7.814075313343006e-11), "console.log's final newline is ignored");
  t.notOk(outputMatches(notebook, printed, 0, 7.8e-11), "the number printed must be the one returned");
  t.notOk(outputMatches(notebook, printed.replace("92m", "93m"), 0, 7.814075313343006e-11), "the colour is part of the text");
  t.notOk(outputMatches(notebook, `${printed}${printed}`, 0, 7.814075313343006e-11), "printing it twice is not printing it");
  t.notOk(outputMatches(notebook, "", 0, 7.814075313343006e-11), "printing nothing fails");
  const javascript: OutputExpectation = { fromValue: { when: [{ atLeast: 1, lessThan: 2, text: "between: {value}" }], otherwise: "outside: {value}", format: "javascript" } };
  t.equal(expectedOutputText(javascript, 1), "between: 1");
  t.equal(expectedOutputText(javascript, 2), "outside: 2");
  t.equal(expectedOutputText(javascript, { $: "number", v: "NaN" }), "outside: NaN", "NaN meets no bound");
});

t.test("exact text passes only on the same text, and output cut at the limit never passes", async (t) => {
  t.ok(outputMatches({ text: "a\nb" }, "a\nb\n", 0, 1));
  t.ok(outputMatches({ text: "" }, "", 0, 1), "expecting nothing printed");
  t.notOk(outputMatches({ text: "" }, "\n", 0, 1), "an empty console.log() printed a line");
  t.notOk(outputMatches({ text: "a" }, "a\n", 1, 1), "lines were dropped: the text is not all that was printed");
  t.notOk(outputMatches({ text: "a b" }, "a  b\n", 0, 1));
});

t.test("a pattern is searched in the text, runs in linear time, and fails on output over its input bound", async (t) => {
  t.ok(outputMatches({ pattern: "difference = [0-9.e+-]+" }, "\u001b[92mYour … difference = 7.8e-11\u001b[0m\n", 0, 1));
  t.ok(outputMatches({ pattern: "^\\x1b\\[92m" }, "\u001b[92mfine\n", 0, 1), "ANSI codes can be matched with \\x1b");
  t.notOk(outputMatches({ pattern: "^fine$" }, "not fine\n", 0, 1));
  // (a+)+$ backtracks exponentially in a backtracking engine on "aaaa…b"; RE2 answers in one pass.
  const hostile = `${"a".repeat(PATTERN_INPUT_CHARS - 1)}b`;
  t.notOk(outputMatches({ pattern: "(a+)+$" }, hostile, 0, 1), "a catastrophic pattern for backtracking engines returns");
  t.ok(outputMatches({ pattern: "(a+)+b$" }, hostile, 0, 1));
  t.notOk(outputMatches({ pattern: "a" }, "a".repeat(PATTERN_INPUT_CHARS + 1), 0, 1), "longer output than the bound fails the pattern");
});

t.test("control characters are written out, so a student sees colour codes beside the text", async (t) => {
  t.equal(visibleControls("\u001b[93mhi\u001b[0m\tx\ny"), "\\x1b[93mhi\\x1b[0m\\x09x\\ny");
  t.equal(describeOutputExpectation(notebook, 0.5), 'printed: "\\x1b[93mThere is a mistake in the backward propagation! difference = 0.5\\x1b[0m"');
  t.equal(describeOutputExpectation({ pattern: "^ok$" }, 1), "printed text matching the pattern /^ok$/");
});
