import { getJson, isAdmin } from "./api.js";
import type { AssignmentSummary } from "./assignments.js";
import { chartWidth, perDayChart, scoreHistogram, type Bucket } from "./charts.js";
import { errorBox, h, json, section, table } from "./dom.js";
import type { StaffCase } from "./feedback.js";
import { matrixSection } from "./matrix.js";

interface Activity {
  truncated: boolean;
  submissions: { total: number; last24h: number; last7d: number };
  perDay: Array<{ day: string; count: number }>;
  scores: { submissions: number; buckets: Bucket[] };
  mostFailed: Array<{ exercise: string; test: string; visibility: string; failed: number }>;
}

interface SubmissionSummary {
  id: string;
  student: string | null;
  status: string;
  score: number | null;
  maxScore: number | null;
  receivedAt: string;
}

const MOST_FAILED_SHOWN = 10;
/** Arguments are shown cut to this many characters (the whole value is in the cell's title). */
const ARGS_SHOWN = 160;

function argsCell(args: unknown[]): HTMLElement {
  const text = json(args);
  return h("code", { class: "args", title: text.length > ARGS_SHOWN ? text.slice(0, 2000) : undefined }, text.length > ARGS_SHOWN ? `${text.slice(0, ARGS_SHOWN)}…` : text);
}
const RECENT_SHOWN = 25;

function casesSection(summary: AssignmentSummary, staff: StaffCase[] | undefined): HTMLElement {
  const parts: HTMLElement[] = [];
  for (const exercise of summary.exercises) {
    const rows = staff === undefined
      ? exercise.publicCases.map((c) => [c.id, "public", c.description ?? "", argsCell(c.args), c.expected])
      : staff.filter((c) => c.exercise === exercise.name).map((c) => [c.id, c.visibility === "hidden" ? `hidden (${c.testId})` : "public", c.description ?? "", argsCell(c.args), c.expected]);
    const hidden = staff === undefined ? exercise.hiddenCases : staff.filter((c) => c.exercise === exercise.name && c.visibility === "hidden").length;
    // One exercise per disclosure: the cohort's figures stay near the top of the page.
    parts.push(h("details", { class: "exercise" },
      h("summary", {}, `${exercise.title ?? exercise.name} — ${exercise.points} points, ${exercise.publicCases.length} public and ${hidden} hidden cases`),
      table(`Cases of ${exercise.name}`, ["case", "visibility", "description", "arguments", "expected"], rows),
      staff === undefined && exercise.hiddenCases > 0 ? h("p", { class: "note" }, `${exercise.hiddenCases} hidden cases: their inputs are for admins only.`) : null));
  }
  return h("div", {}, ...parts);
}

/** Page 2: an assignment's cases, matrix, score histogram, most failed tests and submissions over time. */
export async function assignmentPage(main: HTMLElement, id: string): Promise<void> {
  const path = `/v1/assignments/${encodeURIComponent(id)}`;
  const summary = await getJson<AssignmentSummary>(path);
  const staff = isAdmin ? (await getJson<{ cases: StaffCase[] }>(`${path}/cases`)).cases : undefined;
  const casesPart = section("Exercises and cases", "cases", casesSection(summary, staff));
  main.replaceChildren(
    h("h1", {}, summary.title),
    h("p", {}, `Version ${summary.version} · `, h("code", {}, summary.assignmentVersion.slice(0, 12)), " · ",
      h("a", { href: `/console/assignments/${encodeURIComponent(id)}/try` }, "Try it"), " · ",
      h("a", { href: `/console/assignments/${encodeURIComponent(id)}/preview` }, "Preview a change")));
  if (!isAdmin) {
    main.append(casesPart);
    return;
  }

  const matrixHolder = section("Case × solution matrix", "matrix", h("p", { "aria-live": "polite" }, "Grading the reference and every mutant…"));
  const activity = await getJson<Activity>(`${path}/activity`);
  const width = chartWidth(main);
  const mostFailed = activity.mostFailed.slice(0, MOST_FAILED_SHOWN);
  const recent = await getJson<{ items: SubmissionSummary[] }>(`/v1/submissions?assignment=${encodeURIComponent(id)}&limit=${RECENT_SHOWN}`);
  main.append(
    section("Scores", "scores",
      h("p", {}, `${activity.scores.submissions} students (latest graded submission each); ${activity.submissions.total} submissions in all, ${activity.submissions.last24h} in the last 24 h, ${activity.submissions.last7d} in the last 7 days.`),
      activity.truncated ? h("p", { class: "note" }, "Only the newest submissions are counted.") : null,
      scoreHistogram(activity.scores.buckets, width)),
    section("Tests failed most often", "most-failed",
      mostFailed.length === 0 ? h("p", {}, "No failed test yet.")
        : table("Tests failed most often (latest submission per student)", ["test", "exercise", "visibility", "students"], mostFailed.map((t) => [t.test, t.exercise, t.visibility, t.failed]), { "data-testid": "most-failed" })),
    section("Submissions over time", "over-time", perDayChart(activity.perDay, width)),
    section("Recent submissions", "recent",
      table("Recent submissions", ["submission", "student", "status", "score", "received"], recent.items.map((s) => [
        h("a", { href: `/console/submissions/${encodeURIComponent(s.id)}` }, s.id.slice(0, 8)),
        s.student ?? "—", s.status, s.score === null ? "—" : `${s.score} / ${s.maxScore}`, new Date(s.receivedAt).toLocaleString(),
      ]), { "data-testid": "recent" })),
    casesPart,
    matrixHolder);
  // The matrix grades the reference and every mutant: it comes last, and slowly.
  matrixHolder.replaceChildren(matrixHolder.firstChild!, await matrixSection(id).catch(errorBox));
}
