#!/usr/bin/env node
// Gradescope's side of gradebox: reads the student's file from <root>/submission/, grades it with
// ?format=gradescope and writes <root>/results/results.json. <root> is /autograder, or
// GRADEBOX_AUTOGRADER_DIR (tests point it at a temp folder).
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { clientSettings, findSubmission, grade } from "./gradebox-client.mjs";

const root = process.env.GRADEBOX_AUTOGRADER_DIR ?? "/autograder";
const settings = clientSettings();
const resultsFile = path.join(root, "results", "results.json");

/**
 * A results.json for a grading that did not happen: score 0, visible to the student, telling them
 * what to do, and marked as a grader failure in extra_data so that staff can find and regrade it
 * (Gradescope's "Regrade all submissions"), never mistaken for a zero the student earned.
 */
function failure(message, studentAction) {
  return {
    score: 0,
    output: `${studentAction}\n\n(${message})`,
    output_format: "text",
    visibility: "visible",
    stdout_visibility: "hidden",
    extra_data: { gradebox: { graderFailure: true, reason: message } },
    tests: [{ name: "Grading service", status: "failed", score: 0, max_score: 0, output: studentAction, visibility: "visible" }],
  };
}

async function main() {
  await mkdir(path.dirname(resultsFile), { recursive: true });
  let submission;
  try {
    submission = await findSubmission(path.join(root, "submission"), settings.file);
  } catch (error) {
    // The student's own mistake (no file, two files): an honest 0 with the reason.
    return { score: 0, output: String(error.message), output_format: "text", visibility: "visible", tests: [] };
  }
  const answer = await grade({ settings, format: "gradescope", submission });
  if (answer.ok) return answer.body;
  return answer.unreachable
    ? failure(answer.message, "Your submission could not be graded: the grading service is unavailable. Please resubmit in a few minutes; this 0 is not your score.")
    : failure(answer.message, "Your submission could not be graded because the autograder is misconfigured. Your instructor has been told; this 0 is not your score.");
}

const results = await main();
await writeFile(resultsFile, JSON.stringify(results));
if (results.extra_data?.gradebox?.graderFailure === true) {
  console.error(`gradebox grader failure: ${results.extra_data.gradebox.reason}`);
  process.exitCode = 1;
}
