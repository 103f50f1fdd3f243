import t from "tap";
import { SaxesParser } from "saxes";
import { buildApp } from "../helpers/app.js";
import type { XqueueResult } from "../../src/formats/xqueue.js";
import { claimsAllPassed, failsOnlyHidden, formatValidator, reference, submitAs, syntaxError, xmlProblem } from "./support.js";

// The default limits: these submissions are honest or wrong, never hostile, and a 25-call grading must
// not miss a 400 ms limit on a loaded machine.
const app = await buildApp();
t.teardown(() => app.close());

const validate = formatValidator("xqueue");

async function grade(source: string): Promise<XqueueResult> {
  const response = await submitAs(app, "xqueue", source);
  t.equal(response.status, 200, "a submission is answered with 200");
  const result = response.body as XqueueResult;
  t.ok(validate(result), `the reply matches submissions-schema/formats/xqueue.schema.json ${JSON.stringify(validate.errors)}`);
  t.equal(xmlProblem(result.msg), undefined, "msg parses as XML with one root element, as the LMS requires");
  return result;
}

t.test("the reference solution is correct with score 1", async (t) => {
  const result = await grade(reference);
  t.equal(result.correct, true);
  t.equal(result.score, 1);
  t.match(result.msg, /^<div class="gradebox-feedback">\n<p>All tests passed\.<\/p>/);
  t.match(result.msg, /<p>Score: 100 \/ 100<\/p>/);
  t.match(result.msg, /<li>Hidden test 1 of forward_propagation passed\.<\/li>/);
});

t.test("a submission that fails only hidden tests is not correct, scores 0.75 and is told so", async (t) => {
  const result = await grade(failsOnlyHidden);
  t.equal(result.correct, false, "correct only with full credit");
  t.equal(result.score, 0.75);
  t.match(result.msg, /<p>All 5 public tests passed, but 7 of 20 hidden tests failed \(in gradient_check_n\)\.<\/p>/);
  t.notOk(claimsAllPassed(result.msg));
  t.equal(result.msg.match(/Hidden test \d of gradient_check_n failed\./g)?.length, 7);
});

t.test("a syntax error is not correct, scores 0 and shows the error", async (t) => {
  const result = await grade(syntaxError);
  t.equal(result.correct, false);
  t.equal(result.score, 0);
  t.match(result.msg, /<p>SyntaxError: .*\(line 5, column \d+\)<\/p>/);
});

t.test("everything a student wrote is escaped: output, messages and received values cannot inject HTML", async (t) => {
  const source = reference
    .replace("export function forward_propagation(x, theta) {", 'export function forward_propagation(x, theta) {\n  console.log("<script>alert(\\"out\\")</script> & \\u001b[31mred\\u001b[0m\\u0000");')
    .replace("export function backward_propagation(x, theta) {", 'export function backward_propagation(x, theta) {\n  throw new Error("<img src=x onerror=alert(1)>");');
  t.not(source, reference, "the edits applied");
  const result = await grade(source);
  t.notMatch(result.msg, /<script|<img/i, "no tag from the student survives");
  t.match(result.msg, /&lt;script&gt;alert\(&quot;out&quot;\)&lt;\/script&gt; &amp; red/, "the output is shown escaped, without colours or NUL");
  t.match(result.msg, /&lt;img src=x onerror=alert\(1\)&gt;/, "the error message is shown escaped");
});

/** Parses msg as lxml's etree.fromstring does (a strict XML 1.0 parser); the reason it fails, or undefined. */
function strictXmlError(msg: string): string | undefined {
  const parser = new SaxesParser({ xmlns: false });
  let error: string | undefined;
  parser.on("error", (e) => {
    error ??= e.message;
  });
  parser.write(msg).close();
  return error;
}

// Every kind of code point XML 1.0 forbids: C0 controls, U+FFFE and U+FFFF, and lone surrogates.
const FORBIDDEN = ["\\u0001", "\\u000b", "\\u000c", "\\u001f", "\\ufffe", "\\uffff", "\\ud800", "\\udfff"];

t.test("U+FFFE, U+FFFF and every other code point XML 1.0 forbids never reach msg, from the output or from an error message", async (t) => {
  const printed = FORBIDDEN.join("|");
  const source = reference
    .replace("export function forward_propagation(x, theta) {", `export function forward_propagation(x, theta) {\n  console.log("out:${printed}:end");`)
    .replace("export function backward_propagation(x, theta) {", `export function backward_propagation(x, theta) {\n  throw new Error("err:${printed}:end");`);
  t.not(source, reference, "the edits applied");
  const result = await grade(source);
  t.equal(strictXmlError(result.msg), undefined, "a strict XML parser reads msg");
  t.notMatch(result.msg, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/, "no forbidden code point is left");
  t.notOk(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(result.msg), "no lone surrogate is left");
  t.match(result.msg, /out:[^<]*:end/, "the output is still shown");
  t.match(result.msg, /err:[^<]*:end/, "the error message is still shown");
  t.ok(result.msg.includes("\uFFFD"), "what was removed is marked with U+FFFD");
});

t.test("characters XML allows survive: accents, emoji and characters beyond the Basic Multilingual Plane", async (t) => {
  const source = reference.replace("export function forward_propagation(x, theta) {", 'export function forward_propagation(x, theta) {\n  console.log("héllo 🙂 \\u{1D11E} \\uFFFD");');
  const result = await grade(source);
  t.equal(strictXmlError(result.msg), undefined);
  t.match(result.msg, /héllo 🙂 \u{1D11E} \uFFFD/u);
});

t.test("msg is never empty and always one well-formed element, whatever the outcome", async (t) => {
  for (const source of [reference, failsOnlyHidden, syntaxError, "throw new Error('\\uFFFF')", "", "console.log('\\uFFFE')"]) {
    const result = await grade(source);
    t.ok(result.msg.length > 0, "msg is not empty");
    t.equal(strictXmlError(result.msg), undefined, `a strict XML parser reads msg for ${JSON.stringify(source.slice(0, 30))}`);
  }
});

t.test("the schema refuses an empty msg", async (t) => {
  t.notOk(validate({ correct: false, score: 0, msg: "" }));
});
