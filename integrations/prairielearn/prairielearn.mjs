#!/usr/bin/env node
// PrairieLearn's side of gradebox (the external grader's entrypoint): reads /grade/data/data.json and
// the student's file from /grade/student/, grades it with ?format=prairielearn and writes
// /grade/results/results.json. /grade is GRADEBOX_GRADE_DIR when set (tests point it at a temp folder).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { clientSettings, findSubmission, grade } from "./gradebox-client.mjs";

const root = process.env.GRADEBOX_GRADE_DIR ?? "/grade";
const settings = clientSettings();
const resultsFile = path.join(root, "results", "results.json");

/** Not gradable: PrairieLearn then charges no attempt and shows the message, so the student can simply resubmit. */
function notGradable(message) {
  return { gradable: false, message, output: "", format_errors: [message] };
}

async function main() {
  // A question may name its assignment in its params (server.py: data["params"]["gradebox_assignment"]),
  // so that one image serves every question of a course; else GRADEBOX_ASSIGNMENT from info.json's environment.
  let data = {};
  try {
    data = JSON.parse(await readFile(path.join(root, "data", "data.json"), "utf8"));
  } catch {
    // no data.json: the environment decides
  }
  const assignment = typeof data?.params?.gradebox_assignment === "string" ? data.params.gradebox_assignment : settings.assignment;
  let submission;
  try {
    submission = await findSubmission(path.join(root, "student"), settings.file);
  } catch (error) {
    return notGradable(String(error.message));
  }
  const answer = await grade({ settings: { ...settings, assignment }, format: "prairielearn", submission });
  if (answer.ok) return answer.body;
  return notGradable(answer.unreachable
    ? `The grading service is unavailable, so this submission was not graded and no attempt was used. Please resubmit in a few minutes. (${answer.message})`
    : `This question's grader is misconfigured, so this submission was not graded and no attempt was used. Please tell your instructor. (${answer.message})`);
}

await mkdir(path.dirname(resultsFile), { recursive: true });
await writeFile(resultsFile, JSON.stringify(await main()));
