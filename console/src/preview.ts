import { getJson, postJson } from "./api.js";
import { errorBox, h, section, table } from "./dom.js";
import type { StaffCase } from "./feedback.js";

/**
 * Page 5: a draft of the pack (an uploaded PUT body, or today's pack with cases removed or added), its
 * regrade preview (POST /v1/assignments/:id/regrades with dryRun, issue #16), and "publish and
 * regrade" after one confirmation.
 */

interface Regrade {
  id: string;
  status: string;
  total?: number;
  done?: number;
  counts?: { improved: number; worsened: number; unchanged: number; errored: number };
  changes?: Array<{ submission: string; student: string | null; outcome: string; before: { score: number; maxScore: number }; after: { score: number; maxScore: number }; cases?: string[] }>;
  perExercise?: Record<string, number>;
  perCase?: Record<string, number>;
  /** Why it failed or was cancelled. */
  error?: string | null;
}

const POLL_MS = 500;

async function finished(id: string, progress: HTMLElement): Promise<Regrade> {
  for (;;) {
    const regrade = await getJson<Regrade>(`/v1/regrades/${encodeURIComponent(id)}`);
    progress.textContent = `Regrade ${regrade.status}: ${regrade.done ?? 0} of ${regrade.total ?? "?"} submissions.`;
    if (regrade.status !== "running" && regrade.status !== "queued") return regrade;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function regradeView(regrade: Regrade, title: string): HTMLElement {
  const counts = regrade.counts ?? { improved: 0, worsened: 0, unchanged: 0, errored: 0 };
  return h("div", { "data-testid": "regrade", "data-status": regrade.status, "data-regrade": regrade.id },
    h("h3", {}, title),
    typeof regrade.error === "string" ? h("p", { class: "error" }, regrade.error) : null,
    h("ul", { class: "counts" },
      h("li", {}, "improved ", h("strong", { "data-count": "improved" }, String(counts.improved))),
      h("li", {}, "worsened ", h("strong", { "data-count": "worsened" }, String(counts.worsened))),
      h("li", {}, "unchanged ", h("strong", { "data-count": "unchanged" }, String(counts.unchanged))),
      h("li", {}, "errored ", h("strong", { "data-count": "errored" }, String(counts.errored)))),
    (regrade.changes ?? []).length === 0 ? h("p", {}, "No submission changes.")
      : table("Who flips (every submission whose score or a test moved)", ["submission", "student", "outcome", "before", "after", "tests that changed"], (regrade.changes ?? []).map((c) => [
        h("a", { href: `/console/submissions/${encodeURIComponent(c.submission)}` }, c.submission.slice(0, 8)),
        c.student ?? "—", c.outcome, `${c.before.score} / ${c.before.maxScore}`, `${c.after.score} / ${c.after.maxScore}`, (c.cases ?? []).join(", "),
      ]), { "data-testid": "flips" }),
    flipTable("Submissions that flip, per exercise", "exercise", regrade.perExercise),
    flipTable("Submissions that flip, per case", "case", regrade.perCase));
}

function flipTable(caption: string, what: string, counts: Record<string, number> | undefined): HTMLElement | null {
  const entries = Object.entries(counts ?? {}).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? null : table(caption, [what, "submissions"], entries.map(([name, count]) => [name, count]));
}

export async function previewPage(main: HTMLElement, id: string): Promise<void> {
  const path = `/v1/assignments/${encodeURIComponent(id)}`;
  const [{ files }, { cases }] = await Promise.all([getJson<{ files: Record<string, string> }>(`${path}/pack`), getJson<{ cases: StaffCase[] }>(`${path}/cases`)]);
  let uploaded: Record<string, string> | undefined;

  const removeList = h("fieldset", { class: "cases" }, h("legend", {}, "Remove cases"),
    ...cases.map((c, i) => h("div", {}, h("input", { type: "checkbox", id: `remove-${i}`, value: c.file, "data-case": c.id }), " ",
      h("label", { for: `remove-${i}` }, `${c.id} (${c.exercise}, ${c.visibility})`))));
  const addName = h("input", { id: "add-name", type: "text", placeholder: "cases/my-new-case.json", pattern: "cases/[a-z0-9-]+\\.json" });
  const addText = h("textarea", { id: "add-text", rows: 6, spellcheck: "false" });
  const upload = h("input", { id: "upload", type: "file", accept: ".json,application/json" });
  const uploadNote = h("p", { class: "note", "aria-live": "polite" });
  const scope = h("select", { id: "scope" }, h("option", { value: "latest" }, "latest submission per student"), h("option", { value: "all" }, "every submission"));
  const previewButton = h("button", { type: "button", id: "preview" }, "Preview the regrade");
  const publishButton = h("button", { type: "button", id: "publish", disabled: true }, "Publish and regrade…");
  const progress = h("p", { "aria-live": "polite", id: "progress" });
  const result = h("div", { id: "preview-result" });
  const dialog = h("dialog", { id: "confirm", "aria-labelledby": "confirm-title" },
    h("h2", { id: "confirm-title" }, "Publish this draft and regrade?"),
    h("p", { id: "confirm-text" }),
    h("form", { method: "dialog" }, h("button", { value: "cancel" }, "Cancel"), " ", h("button", { value: "publish", id: "confirm-publish" }, "Publish and regrade")));

  upload.addEventListener("change", () => {
    const file = upload.files?.[0];
    if (file === undefined) return;
    void file.text().then((text) => {
      const body = JSON.parse(text) as { files?: Record<string, string> };
      if (typeof body.files !== "object" || body.files === null) throw new Error("the file is not a PUT body: {\"files\": {path: text}}");
      uploaded = body.files;
      uploadNote.textContent = `Draft: ${file.name}, ${Object.keys(uploaded).length} files (the removals and the added case below are ignored).`;
    }).catch((error: unknown) => {
      uploaded = undefined;
      uploadNote.textContent = `Not a draft: ${String(error)}`;
    });
  });

  /** The draft's files: the upload, or today's pack with the chosen removals and the added case. */
  const draft = (): Record<string, string> => {
    if (uploaded !== undefined) return uploaded;
    const next = { ...files };
    for (const box of removeList.querySelectorAll<HTMLInputElement>("input[type=checkbox]:checked")) delete next[box.value];
    if (addText.value.trim() !== "") next[addName.value.trim() || "cases/added-case.json"] = addText.value;
    return next;
  };

  let previewed: { files: Record<string, string>; scope: string } | undefined;
  previewButton.addEventListener("click", () => {
    previewButton.setAttribute("disabled", "");
    publishButton.setAttribute("disabled", "");
    result.replaceChildren();
    const body = { files: draft(), scope: scope.value };
    postJson<Regrade>(`${path}/regrades`, { dryRun: true, pack: { files: body.files }, scope: body.scope })
      .then((started) => finished(started.id, progress))
      .then((regrade) => {
        result.replaceChildren(regradeView(regrade, "Preview (nothing stored)"));
        if (regrade.status === "done") {
          previewed = body;
          publishButton.removeAttribute("disabled");
        }
      })
      .catch((error: unknown) => result.replaceChildren(errorBox(error)))
      .finally(() => previewButton.removeAttribute("disabled"));
  });

  publishButton.addEventListener("click", () => {
    if (previewed === undefined) return;
    dialog.querySelector("#confirm-text")!.textContent = `The draft replaces ${id} for every new submission, and ${previewed.scope === "all" ? "every stored submission" : "each student's latest submission"} is graded again and stored with its history.`;
    dialog.showModal();
  });
  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "publish" || previewed === undefined) return;
    publishButton.setAttribute("disabled", "");
    postJson<Regrade>(`${path}/regrades`, { dryRun: false, pack: { files: previewed.files }, scope: previewed.scope })
      .then((started) => finished(started.id, progress))
      .then((regrade) => result.append(regradeView(regrade, "Published and regraded")))
      .catch((error: unknown) => result.append(errorBox(error)));
  });

  main.replaceChildren(
    h("h1", {}, "Preview a change: ", h("a", { href: `/console/assignments/${encodeURIComponent(id)}` }, id)),
    section("The draft", "draft",
      h("p", {}, h("label", { for: "upload" }, "Upload a draft (a PUT body, {\"files\": {…}}) "), upload), uploadNote,
      h("p", {}, "Or change today's pack:"),
      removeList,
      h("div", { class: "add-case" }, h("label", { for: "add-name" }, "Add a case: file "), addName, h("label", { for: "add-text" }, "its JSON"), addText),
      h("p", { class: "actions" }, h("label", { for: "scope" }, "Regrade "), scope, " ", previewButton, " ", publishButton)),
    section("Impact", "impact", progress, result),
    dialog);
}

