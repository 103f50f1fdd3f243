/** One thing wrong with a pack, precise enough to fix without reading the service's code. */
export interface PackProblem {
  /** The pack-relative file, e.g. "cases/forward-notebook.json"; "" for the pack as a whole. */
  file: string;
  /** JSON pointer inside the file, e.g. "/expect/rtol"; "" for the whole file. */
  path: string;
  message: string;
  /** For the problems tools act on, a stable name (the message is for people). */
  code?: "exercise_without_case";
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
