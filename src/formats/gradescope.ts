import {
  allShownTests,
  consoleOutput,
  hiddenTestName,
  hiddenTestSentence,
  NOT_RUN,
  plain,
  publicDetails,
  rejectionText,
  summaryOf,
  type FormatInput,
} from "./common.js";

/**
 * Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/), with
 * published fields only. The top-level score is gradebox's score (it overrides the sum of the tests);
 * each test carries its share of its exercise's points. Every string is plain text: output_format is
 * set to "text" explicitly, because Gradescope's default for the top-level output renders HTML.
 */
export interface GradescopeTest {
  name: string;
  number: string;
  score: number;
  max_score: number;
  status: "passed" | "failed";
  visibility: "visible" | "hidden" | "after_due_date" | "after_published";
  output: string;
  tags: string[];
}

export interface GradescopeResults {
  score: number;
  output: string;
  output_format: "text";
  test_output_format: "text";
  test_name_format: "text";
  visibility: "visible" | "hidden" | "after_due_date" | "after_published";
  stdout_visibility: "visible" | "hidden" | "after_due_date" | "after_published";
  extra_data: { gradebox: { id: string; assignment: string; assignmentVersion: string; status: "graded" | "rejected"; maxScore: number; rejection?: string } };
  tests: GradescopeTest[];
}

export function gradescope(input: FormatInput): GradescopeResults {
  const parts = [summaryOf(input)];
  if (input.status === "rejected") parts.push(plain(rejectionText(input)));
  parts.push(`Score: ${input.score} / ${input.maxScore}`);
  const output = consoleOutput(input);
  if (output !== "") parts.push(`Console output:\n${output}`);

  const exerciseNumbers = new Map(input.exercises.map((e, i) => [e, i + 1]));
  const counters = new Map<unknown, number>();
  const tests = allShownTests(input).map((shown): GradescopeTest => {
    const n = (counters.get(shown.exercise) ?? 0) + 1;
    counters.set(shown.exercise, n);
    const common = {
      number: `${exerciseNumbers.get(shown.exercise) ?? 0}.${n}`,
      score: shown.points,
      max_score: shown.maxPoints,
      status: shown.passed ? "passed" as const : "failed" as const,
      // What a hidden test shows is already reduced to a generic sentence, so it is visible: the
      // student learns that a hidden test failed, which the summary says too.
      visibility: "visible" as const,
    };
    if (shown.kind === "hidden") {
      const output = input.status === "graded" ? hiddenTestSentence(shown.exercise, shown.rank, shown.passed) : NOT_RUN;
      return { name: hiddenTestName(shown.exercise.name, shown.rank), ...common, output, tags: [shown.exercise.name, "hidden"] };
    }
    const details = input.status === "graded" ? publicDetails(shown.test) : [NOT_RUN];
    if (shown.test.description !== undefined) details.unshift(plain(shown.test.description));
    return { name: `${shown.exercise.name}: ${shown.test.id}`, ...common, output: details.join("\n"), tags: [shown.exercise.name, "public"] };
  });

  const gradebox: GradescopeResults["extra_data"]["gradebox"] = {
    id: input.id,
    assignment: input.assignment,
    assignmentVersion: input.assignmentVersion,
    status: input.status,
    maxScore: input.maxScore,
  };
  if (input.reason !== undefined) gradebox.rejection = input.reason.code;
  return {
    score: input.status === "graded" ? input.score : 0,
    output: parts.join("\n\n"),
    output_format: "text",
    test_output_format: "text",
    test_name_format: "text",
    visibility: "visible",
    stdout_visibility: "hidden",
    extra_data: { gradebox },
    tests,
  };
}
