import { getText, postJson } from "./api.js";
import { errorBox, h, section } from "./dom.js";
import { sourceEditor } from "./editor.js";
import { errorLines, studentView, type Feedback } from "./feedback.js";

/** Page 4: the starter in an editor; Grade runs the real grading (POST …/trials), which is not stored. */
export async function tryPage(main: HTMLElement, id: string): Promise<void> {
  const starter = await getText(`/v1/assignments/${encodeURIComponent(id)}/starter`);
  const holder = h("div", { class: "editor" });
  const result = h("div", { id: "result", "aria-live": "polite" });
  const language = h("select", { id: "language" }, h("option", { value: "javascript" }, "JavaScript"), h("option", { value: "typescript" }, "TypeScript"));
  const button = h("button", { type: "button", id: "grade" }, "Grade");
  main.replaceChildren(
    h("h1", {}, "Try it: ", h("a", { href: `/console/assignments/${encodeURIComponent(id)}` }, id)),
    h("p", {}, "Grading here runs the real service with the assignment's limits; it is not stored as a submission."),
    section("Source", "try-source", holder, h("p", { class: "actions" }, h("label", { for: "language" }, "Language "), language, " ", button)),
    section("Feedback", "try-feedback", result));
  const editor = sourceEditor(holder, starter, { label: "Source to grade" });
  button.addEventListener("click", () => {
    button.setAttribute("disabled", "");
    result.replaceChildren(h("p", {}, "Grading…"));
    postJson<Feedback>(`/v1/assignments/${encodeURIComponent(id)}/trials`, { source: editor.state.doc.toString(), language: language.value })
      .then((feedback) => {
        const lines = errorLines(feedback);
        result.replaceChildren(studentView(feedback), lines.size > 0 ? h("p", {}, `Lines with errors: ${[...lines].sort((a, b) => a - b).join(", ")}.`) : "");
      })
      .catch((error: unknown) => result.replaceChildren(errorBox(error)))
      .finally(() => button.removeAttribute("disabled"));
  });
}
