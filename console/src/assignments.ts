import { getJson, isAdmin } from "./api.js";
import { errorBox, h, section, table } from "./dom.js";

export interface AssignmentSummary {
  id: string;
  title: string;
  version: string;
  assignmentVersion: string;
  exercises: Array<{ name: string; title?: string; points: number; hiddenCases: number; publicCases: Array<{ id: string; description?: string; args: unknown[]; expected: string }> }>;
}

interface Activity {
  submissions: { total: number; last24h: number; last7d: number };
}

interface CasesAnswer {
  selfTest: { state: string; cases: number; mutants: number };
}

/** Page 1: every pack with its version, exercises, points, self-test and recent submissions. */
export async function assignmentsPage(main: HTMLElement): Promise<void> {
  const { assignments } = await getJson<{ assignments: AssignmentSummary[] }>("/v1/assignments");
  const rows = await Promise.all(assignments.map(async (a) => {
    // Self-test and counts are instructors' figures: a key without admin sees a dash.
    const [activity, cases] = isAdmin
      ? await Promise.all([getJson<Activity>(`/v1/assignments/${a.id}/activity`), getJson<CasesAnswer>(`/v1/assignments/${a.id}/cases`)])
      : [undefined, undefined];
    const points = a.exercises.reduce((sum, e) => sum + e.points, 0);
    return [
      h("a", { href: `/console/assignments/${encodeURIComponent(a.id)}` }, a.title),
      a.version,
      h("ul", { class: "plain" }, ...a.exercises.map((e) => h("li", {}, `${e.name} (${e.points})`))),
      points,
      cases === undefined ? "—" : `${cases.selfTest.state}: ${cases.selfTest.cases} cases, ${cases.selfTest.mutants} mutants caught`,
      activity === undefined ? "—" : activity.submissions.last24h,
      activity === undefined ? "—" : activity.submissions.last7d,
    ];
  }));
  main.replaceChildren(
    h("h1", {}, "Assignments"),
    section("Every pack this service grades", "packs",
      table("Assignments", ["assignment", "version", "exercises (points)", "points", "self-test", "last 24 h", "last 7 d"], rows, { "data-testid": "assignments" })));
}

export { errorBox };
