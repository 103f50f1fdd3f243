import { getJson, isAdmin } from "./api.js";
import { h, section, table } from "./dom.js";
import { sourceEditor } from "./editor.js";
import { errorLines, staffView, studentView, type Feedback, type StaffCase } from "./feedback.js";

interface Grading {
  version?: string;
  assignmentVersion?: string;
  score: number | null;
  maxScore?: number | null;
  gradedAt?: string;
  reason?: string;
}

type Record = Partial<Omit<Feedback, "status">> & { id: string; status: string; error?: { code: string; message: string }; gradings?: Grading[] };

interface Source {
  language: string;
  source: string;
  sourceBlanked: boolean;
}

/** Page 3: a submission's feedback as the student saw it, beside the staff view; its source and history. */
export async function submissionPage(main: HTMLElement, id: string): Promise<void> {
  const record = await getJson<Record>(`/v1/submissions/${encodeURIComponent(id)}?format=native`);
  main.replaceChildren(h("h1", {}, `Submission ${id.slice(0, 8)}`));
  if (record.status === "queued" || record.status === "running") {
    main.append(h("p", {}, `This submission is ${record.status}.`));
    return;
  }
  if (record.status === "failed" || record.exercises === undefined) {
    main.append(h("p", { class: "error" }, `The service could not grade it: ${record.error?.code ?? ""} ${record.error?.message ?? ""}`));
    return;
  }
  const feedback = record as Feedback;
  main.append(h("p", {}, "Assignment ", h("a", { href: `/console/assignments/${encodeURIComponent(feedback.assignment)}` }, feedback.assignment), " · version ", h("code", {}, feedback.assignmentVersion.slice(0, 12))));
  let staffCases: StaffCase[] | undefined;
  let currentVersion = "";
  if (isAdmin) {
    const answer = await getJson<{ assignmentVersion: string; cases: StaffCase[] }>(`/v1/assignments/${encodeURIComponent(feedback.assignment)}/cases`).catch(() => undefined);
    staffCases = answer?.cases;
    currentVersion = answer?.assignmentVersion ?? "";
  }
  main.append(h("div", { class: "side-by-side" },
    section("As the student saw it", "student", studentView(feedback)),
    section("Staff view", "staff", staffView(feedback, staffCases, currentVersion === feedback.assignmentVersion))));

  const source = await getJson<Source>(`/v1/submissions/${encodeURIComponent(id)}/source`);
  const holder = h("div", { class: "editor" });
  const lines = errorLines(feedback);
  main.append(section("Source", "source",
    source.sourceBlanked ? h("p", { class: "note" }, "The source was blanked after SOURCE_RETENTION_DAYS.") : null,
    lines.size > 0 ? h("p", {}, `Lines with errors are marked: ${[...lines].sort((a, b) => a - b).join(", ")}.`) : null,
    holder));
  sourceEditor(holder, source.source, { label: "Submitted source", readOnly: true, errorLines: lines });

  if (record.gradings !== undefined) {
    main.append(section("Grading history", "history", table("Gradings", ["graded at", "reason", "score", "version"], record.gradings.map((g) => [
      g.gradedAt === undefined ? "" : new Date(g.gradedAt).toLocaleString(), g.reason ?? "", `${g.score ?? "—"} / ${g.maxScore ?? feedback.maxScore}`, (g.assignmentVersion ?? g.version ?? "").slice(0, 12),
    ]), { "data-testid": "gradings" })));
  }
}
