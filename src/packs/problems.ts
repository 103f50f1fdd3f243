/** One thing wrong with a pack, precise enough to fix without reading the service's code. */
export interface PackProblem {
  /** The pack-relative file, e.g. "cases/forward-notebook.json"; "" for the pack as a whole. */
  file: string;
  /** JSON pointer inside the file, e.g. "/expect/rtol"; "" for the whole file. */
  path: string;
  message: string;
  /** A stable code for tools that act on one kind of problem (e.g. "mutant_find_not_unique"); not every problem has one yet. */
  code?: string;
}

export function formatProblem(problem: PackProblem): string {
  const where = [problem.file, problem.path].filter((part) => part !== "").join(" ");
  return where === "" ? problem.message : `${where}: ${problem.message}`;
}

export class PackError extends Error {
  constructor(readonly packId: string, readonly problems: PackProblem[]) {
    super(`pack '${packId}' is invalid:\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`);
  }
}
