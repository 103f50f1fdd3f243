#!/usr/bin/env node
// Coursera's side of gradebox (a custom grader's entrypoint): reads the learner's file from
// /shared/submission/, grades it with ?format=coursera and writes /shared/feedback.json
// ({fractionalScore, feedback}). /shared is GRADEBOX_SHARED_DIR when set (tests point it at a temp folder).
// Coursera passes the assignment part in the partId variable: GRADEBOX_PARTS maps part ids to
// gradebox assignments ({"aBcD1": "gradient-checking"}); GRADEBOX_ASSIGNMENT serves any other part.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { clientSettings, findSubmission, grade } from "./gradebox-client.mjs";

const root = process.env.GRADEBOX_SHARED_DIR ?? "/shared";
const settings = clientSettings();

function assignmentFor(partId) {
  const parts = JSON.parse(process.env.GRADEBOX_PARTS ?? "{}");
  return typeof parts[partId] === "string" ? parts[partId] : settings.assignment;
}

async function main() {
  let submission;
  try {
    submission = await findSubmission(path.join(root, "submission"), settings.file);
  } catch (error) {
    return { fractionalScore: 0, feedback: String(error.message) };
  }
  const answer = await grade({ settings: { ...settings, assignment: assignmentFor(process.env.partId ?? "") }, format: "coursera", submission });
  if (answer.ok) return answer.body;
  return {
    fractionalScore: 0,
    feedback: answer.unreachable
      ? `Your submission could not be graded: the grading service is unavailable. Please resubmit in a few minutes; this 0 is not your score. (${answer.message})`
      : `Your submission could not be graded because the grader is misconfigured. Please tell your instructor; this 0 is not your score. (${answer.message})`,
  };
}

const feedback = await main();
await mkdir(root, { recursive: true });
await writeFile(path.join(root, "feedback.json"), JSON.stringify(feedback));
