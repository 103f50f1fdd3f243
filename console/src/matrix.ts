import { ApiFailure, getJson } from "./api.js";
import { errorBox, h } from "./dom.js";

/**
 * The case × solution matrix (GET /v1/assignments/:id/matrix, submissions-schema/api/case-matrix.schema.json):
 * which cases fail which mutants, each case's cost and budget, and the redundant / fragile flags.
 */

interface Matrix {
  assignmentVersion: string;
  cases: Array<{ id: string; exercise: string; visibility: string; costMs: number; budgetMs: number; catches: string[]; onlyCatcherOf: string[]; redundant: boolean }>;
  mutants: Array<{ id: string; description: string; caughtBy: string[]; fragile: boolean }>;
  summary: { cases: number; mutants: number; caught: number; redundant: number; fragile: number };
}

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(0);
}

export async function matrixSection(id: string): Promise<HTMLElement> {
  let matrix: Matrix;
  try {
    matrix = await getJson<Matrix>(`/v1/assignments/${encodeURIComponent(id)}/matrix`);
  } catch (error) {
    if (error instanceof ApiFailure && error.code === "route_not_found") return h("p", { class: "note" }, "This service has no case matrix route.");
    return errorBox(error);
  }
  const { summary } = matrix;
  const head = h("tr", {},
    h("th", { scope: "col" }, "case"), h("th", { scope: "col" }, "cost (ms)"), h("th", { scope: "col" }, "budget (ms)"),
    ...matrix.mutants.map((m, i) => h("th", { scope: "col", class: "mutant", title: `${m.id}: ${m.description}` },
      h("abbr", { title: `${m.id}: ${m.description}` }, `M${i + 1}`), m.fragile ? h("span", { class: "flag", "aria-label": "fragile" }, "!") : null)));
  const rows = matrix.cases.map((c) => {
    const catches = new Set(c.catches);
    return h("tr", { "data-case": c.id, class: c.redundant ? "redundant" : undefined },
      h("th", { scope: "row" }, c.id, c.visibility === "hidden" ? h("span", { class: "note" }, " (hidden)") : null, c.redundant ? h("span", { class: "flag" }, " redundant?") : null),
      h("td", {}, ms(c.costMs)), h("td", {}, ms(c.budgetMs)),
      ...matrix.mutants.map((m) => h("td", { class: catches.has(m.id) ? "hit" : "miss", "aria-label": catches.has(m.id) ? `${c.id} fails ${m.id}` : `${c.id} passes ${m.id}` }, catches.has(m.id) ? "●" : "·")));
  });
  const fragile = matrix.mutants.filter((m) => m.fragile);
  return h("div", {},
    h("p", {}, `${summary.caught} of ${summary.mutants} mutants caught by ${summary.cases} cases; ${summary.redundant} redundant candidates, ${summary.fragile} fragile mutants.`),
    h("div", { class: "table-wrap", role: "region", "aria-label": "Case × mutant matrix", tabindex: 0 },
      h("table", { class: "matrix", "data-testid": "matrix" }, h("caption", {}, "Cases × mutants (● the case fails the mutant; ! a mutant only one case catches)"), h("thead", {}, head), h("tbody", {}, ...rows))),
    h("details", {}, h("summary", {}, "Mutants"), h("ol", {}, ...matrix.mutants.map((m) => h("li", {}, h("code", {}, m.id), m.fragile ? " (fragile) " : " ", m.description)))),
    fragile.length > 0 ? h("p", {}, "Fragile (caught by one case only): ", fragile.map((m) => m.id).join(", ")) : null);
}
