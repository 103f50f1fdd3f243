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
 * - score is the fraction of the points, in [0, 1]. The LMS takes it as the points of the problem's
 *   input and clamps it to that input's points, 1 unless the problem says otherwise: a fraction is
 *   right for a default problem, whose weight then scales it.
 * - msg is HTML the LMS parses as XML (a message that does not parse is refused as an invalid grader
 *   reply): one root element, every piece of text escaped (student output may contain `<script>`),
 *   and no control characters (ANSI colours included), which XML does not allow.
 */
export interface XqueueResult {
  correct: boolean;
  score: number;
  msg: string;
}

const h = (text: string) => escapeHtml(plain(text));

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
  return { correct: fullyPassed(input), score: fraction(input), msg: html.join("\n") };
}
