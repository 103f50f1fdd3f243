import { ApiFailure, getJson } from "./api.js";
import { errorBox, h, table } from "./dom.js";

/**
 * The case × solution matrix (GET /v1/assignments/:id/matrix, issue #16): which cases catch which
 * mutants, each case's cost, and the redundant / fragile flags. Read defensively: a service without
 * the route says so instead of breaking the page.
 */

interface MatrixCase {
  id: string;
  exercise?: string;
  visibility?: string;
  costMs?: number;
  redundant?: boolean;
  catches?: string[];
}

interface MatrixMutant {
  id: string;
  caughtBy?: string[];
  fragile?: boolean;
}

interface Matrix {
  cases?: MatrixCase[];
  mutants?: MatrixMutant[];
}

function mark(yes: boolean): HTMLElement {
  return h("span", { class: yes ? "hit" : "miss", "aria-label": yes ? "fails this mutant" : "passes this mutant" }, yes ? "●" : "·");
}

export async function matrixSection(id: string): Promise<HTMLElement> {
  let matrix: Matrix;
  try {
    matrix = await getJson<Matrix>(`/v1/assignments/${encodeURIComponent(id)}/matrix`);
  } catch (error) {
    if (error instanceof ApiFailure && error.code === "route_not_found") return h("p", { class: "note" }, "This service has no case matrix route yet.");
    return errorBox(error);
  }
  const cases = matrix.cases ?? [];
  const mutants = matrix.mutants ?? [];
  const caughtBy = new Map(mutants.map((m) => [m.id, new Set(m.caughtBy ?? [])]));
  const rows = cases.map((c) => {
    const catches = new Set(c.catches ?? mutants.filter((m) => caughtBy.get(m.id)?.has(c.id)).map((m) => m.id));
    return [
      h("span", {}, c.id, c.redundant === true ? h("span", { class: "flag" }, " redundant?") : null),
      c.visibility ?? "",
      c.costMs === undefined ? "" : `${c.costMs} ms`,
      ...mutants.map((m) => mark(catches.has(m.id))),
    ];
  });
  const fragile = mutants.filter((m) => m.fragile === true).map((m) => m.id);
  return h("div", {},
    table("Cases × mutants (● the case fails the mutant)", ["case", "visibility", "cost", ...mutants.map((m) => m.id)], rows, { "data-testid": "matrix", class: "matrix" }),
    fragile.length > 0 ? h("p", {}, "Fragile (caught by one case only): ", fragile.join(", ")) : null);
}
