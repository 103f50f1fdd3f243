import { ansiBlock } from "./ansi.js";
import { h, json, table } from "./dom.js";

/** The parts of the feedback (submissions-schema/api/feedback.schema.json) the console shows. */
export interface TestFeedback {
  id: string;
  visibility: "public" | "hidden";
  status: string;
  message: string;
  detail?: string;
  errorKind?: string;
  line?: number;
  column?: number;
  stack?: string;
  expected?: string;
  received?: string;
  output?: string;
  hint?: string;
  description?: string;
}

export interface Feedback {
  id: string;
  assignment: string;
  assignmentVersion: string;
  status: "graded" | "rejected";
  summary: string;
  reason?: { code: string; message: string; line?: number; column?: number };
  score: number;
  maxScore: number;
  exercises: Array<{ name: string; title?: string; score: number; maxScore: number; passed: boolean; tests: TestFeedback[] }>;
  output: string;
}

export interface StaffCase {
  id: string;
  exercise: string;
  visibility: string;
  testId: string;
  file: string;
  description?: string;
  args: unknown[];
  expected: string;
}

/** Every line the feedback names (errors and the rejection), for the source view. */
export function errorLines(feedback: Feedback): Set<number> {
  const lines = new Set<number>();
  if (feedback.reason?.line !== undefined) lines.add(feedback.reason.line);
  for (const exercise of feedback.exercises) for (const test of exercise.tests) if (test.line !== undefined) lines.add(test.line);
  return lines;
}

/** The feedback as the student saw it: the score, the summary, every test, the console output. */
export function studentView(feedback: Feedback): HTMLElement {
  const root = h("div", { class: "feedback", "data-view": "student" },
    h("p", { class: "score" }, h("strong", { "data-testid": "score" }, `${feedback.score} of ${feedback.maxScore}`), ` · ${feedback.status}`),
    h("p", { class: "summary" }, feedback.summary));
  if (feedback.reason !== undefined) root.appendChild(h("p", { class: "error" }, `${feedback.reason.code}: ${feedback.reason.message}`));
  for (const exercise of feedback.exercises) {
    root.appendChild(h("h4", {}, `${exercise.title ?? exercise.name} — ${exercise.score} of ${exercise.maxScore}`));
    const list = h("ul", { class: "tests" });
    for (const test of exercise.tests) {
      const item = h("li", { class: `test status-${test.status}`, "data-test": test.id },
        h("span", { class: "badge" }, test.status), " ", h("code", {}, test.id), " ",
        test.errorKind !== undefined ? h("span", { class: "kind", "data-error-kind": test.errorKind }, test.errorKind) : null, " ",
        h("span", { class: "message" }, test.message),
        test.line !== undefined ? h("span", { class: "where" }, ` (line ${test.line}${test.column !== undefined ? `:${test.column}` : ""})`) : null);
      if (test.expected !== undefined || test.received !== undefined) {
        item.appendChild(h("dl", { class: "compare" },
          h("dt", {}, "expected"), h("dd", {}, test.expected ?? ""),
          h("dt", {}, "received"), h("dd", {}, test.received ?? "")));
      }
      if (test.detail !== undefined) item.appendChild(h("p", { class: "detail" }, test.detail));
      if (test.hint !== undefined) item.appendChild(h("p", { class: "hint" }, test.hint));
      if (test.output !== undefined && test.output !== "") item.appendChild(ansiBlock(test.output, `console output of ${test.id}`));
      list.appendChild(item);
    }
    root.appendChild(list);
  }
  if (feedback.output !== "") root.append(h("h4", {}, "Console output"), ansiBlock(feedback.output, "console output"));
  return root;
}

/** Arguments are cut to this many characters on the page (the whole value is in the title). */
const ARGS_SHOWN = 120;

function argsText(args: unknown[] | undefined): HTMLElement {
  const text = args === undefined ? "" : json(args);
  const cut = text.length > ARGS_SHOWN;
  return h("code", { class: "args", title: cut ? text.slice(0, 2000) : undefined }, cut ? `${text.slice(0, ARGS_SHOWN)}…` : text);
}

/** The staff view: each hidden test beside the case behind it (its inputs and expectation). */
export function staffView(feedback: Feedback, cases: StaffCase[] | undefined, sameVersion: boolean): HTMLElement {
  if (cases === undefined) return h("p", { class: "note" }, "Hidden inputs are for admins only.");
  const byTest = new Map(cases.map((c) => [c.testId, c]));
  const hidden = feedback.exercises.flatMap((e) => e.tests.filter((t) => t.visibility === "hidden"));
  const root = h("div", { class: "feedback", "data-view": "staff" });
  if (!sameVersion) root.appendChild(h("p", { class: "note" }, "This submission was graded by another version of the pack: the cases below are today's."));
  if (hidden.length === 0) root.appendChild(h("p", {}, "No hidden test was run."));
  else {
    root.appendChild(table("Hidden tests and their cases", ["test", "status", "case", "arguments", "expected"], hidden.map((test) => {
      const c = byTest.get(test.id);
      return [test.id, test.status, c?.id ?? "(no such case now)", argsText(c?.args), c?.expected ?? ""];
    }), { "data-testid": "hidden-cases" }));
  }
  return root;
}
