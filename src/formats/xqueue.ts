import {
  consoleOutput,
  escapeHtml,
  exerciseLabel,
  fraction,
  fullyPassed,
  hiddenTestSentence,
  plain,
  publicDetails,
  rejectionText,
  shownTests,
  summaryOf,
  type FormatInput,
} from "./common.js";

/**
 * The reply of an Open edX external grader to XQueue: `{correct, score, msg}`.
 *
 * - correct is true only with full credit (the module loaded and every test passed).
 * - score is the fraction of the points, in [0, 1]. The LMS takes it as the points earned on the
 *   problem's input as it is: it floors a negative score to 0 but does not cap it at the input's
 *   points, so the fraction is right for an input of 1 point (the default), scaled by the problem's weight.
 * - msg is HTML the LMS parses as XML (lxml's etree.fromstring, then html5lib; a message that parses
 *   with neither is refused as an invalid grader reply and no score is recorded): one root element,
 *   never empty, every piece of text escaped (student output may contain `<script>`), and no code
 *   point that XML 1.0 forbids (control characters, ANSI colours included, lone surrogates, U+FFFE
 *   and U+FFFF), which a student can print with one console.log.
 */
export interface XqueueResult {
  correct: boolean;
  score: number;
  msg: string;
}

// XML 1.0's Char production: tab, newline, carriage return, U+0020-U+D7FF, U+E000-U+FFFD and the
// supplementary planes. Everything else (with the u flag, a lone surrogate is one code point) is out.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/** Text with every code point XML 1.0 forbids replaced by U+FFFD, so that the student still sees something was there. */
export function xmlChars(text: string): string {
  return text.replace(NOT_XML_CHAR, "\uFFFD");
}

const h = (text: string) => escapeHtml(xmlChars(plain(text)));

export function xqueue(input: FormatInput): XqueueResult {
  const graded = input.status === "graded";
  const html: string[] = ['<div class="gradebox-feedback">', `<p>${h(summaryOf(input))}</p>`];
  if (!graded) html.push(`<p>${h(rejectionText(input))}</p>`);
  html.push(`<p>Score: ${input.score} / ${input.maxScore}</p>`, "<ul>");
  for (const exercise of input.exercises) {
    html.push(`<li><strong>${h(exerciseLabel(exercise))}</strong>: ${graded ? exercise.score : 0} / ${exercise.maxScore}`);
    if (graded) {
      html.push("<ul>");
      for (const shown of shownTests(exercise, graded)) {
        const mark = shown.passed ? "passed" : "failed";
        if (shown.kind === "hidden") {
          html.push(`<li>${h(hiddenTestSentence(exercise, shown.rank, shown.passed))}</li>`);
        } else {
          const [first, ...rest] = publicDetails(shown.test);
          const details = rest.length === 0 ? "" : `<pre>${h(rest.join("\n"))}</pre>`;
          html.push(`<li>${h(shown.test.id)} (${mark}): ${h(first ?? "")}${details}</li>`);
        }
      }
      html.push("</ul>");
    }
    html.push("</li>");
  }
  html.push("</ul>");
  const output = consoleOutput(input);
  if (output !== "") html.push(`<p>Console output:</p><pre>${h(output)}</pre>`);
  html.push("</div>");
  // Every piece of text went through h(); the whole message goes through xmlChars once more so that
  // no later edit of the markup above can let a forbidden code point reach the LMS.
  return { correct: fullyPassed(input), score: fraction(input), msg: xmlChars(html.join("\n")) };
}
