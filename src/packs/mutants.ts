import type { MutantSpec, PackFiles } from "./types.js";
import type { PackProblem } from "./problems.js";

/**
 * A pack's mutants (known-wrong solutions), in two forms. A whole-file mutant is a module under
 * mutants/: right when the mistake is structural. A replacement mutant is the reference with a few
 * pieces of text replaced: a reader sees the mistake itself instead of diffing two 160-line files.
 * This module turns either form into the source that is graded, and checks that a replacement
 * mutant can be made: each `find` occurs exactly once, so an edit of the reference cannot silently
 * move a mutant to another line or leave it unchanged.
 */

/** The two forms, as submissions-schema/pack/assignment.schema.json describes them (the one source of their shape). */
export type { MutantSpec };
export type FileMutant = Extract<MutantSpec, { file: string }>;
export type ReplacementMutant = Exclude<MutantSpec, FileMutant>;
export type Replacement = ReplacementMutant["replace"][number];

/** Stable codes of the problems found here, for tools that act on them. */
export const mutantProblemCodes = {
  findNotUnique: "mutant_find_not_unique",
  findsOverlap: "mutant_finds_overlap",
  fromMissing: "mutant_from_missing",
  duplicateId: "mutant_duplicate_id",
} as const;

export function isFileMutant(mutant: MutantSpec): mutant is FileMutant {
  return "file" in mutant;
}

/** A whole-file mutant's id is its file name: mutants/forgets-sign.mjs is forgets-sign. */
export function mutantId(mutant: MutantSpec): string {
  return isFileMutant(mutant) ? mutant.file.replace(/^mutants\//, "").replace(/\.mjs$/, "") : mutant.id;
}

export function mutantDescription(mutant: MutantSpec): string {
  return mutant.description ?? mutantId(mutant);
}

/** Where a problem with this mutant is reported: its own file, or its entry in assignment.json. */
export function mutantLocation(mutant: MutantSpec, index: number): { file: string; path: string } {
  return isFileMutant(mutant) ? { file: mutant.file, path: "" } : { file: "assignment.json", path: `/mutants/${index}` };
}

/** Start offsets of every occurrence of `find` in `text`, overlapping ones included. */
function occurrences(text: string, find: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(find); at !== -1; at = text.indexOf(find, at + 1)) found.push(at);
  return found;
}

/** A `find` as a message quotes it: JSON-escaped, so newlines and spaces are visible, and bounded. */
function quote(find: string): string {
  const shown = JSON.stringify(find);
  return shown.length <= 120 ? shown : `${shown.slice(0, 117)}…"`;
}

/** Checks a replacement mutant against the pack's files; a whole-file mutant has nothing to check here. */
export function checkMutant(mutant: MutantSpec, index: number, files: PackFiles): PackProblem[] {
  if (isFileMutant(mutant)) return [];
  const problems: PackProblem[] = [];
  const base = `/mutants/${index}`;
  const text = files.get(mutant.from);
  if (text === undefined) {
    return [{ file: "assignment.json", path: `${base}/from`, code: mutantProblemCodes.fromMissing, message: `mutant '${mutant.id}' is made from ${mutant.from}, which is not in the pack` }];
  }
  const spans: Array<{ start: number; end: number; j: number }> = [];
  mutant.replace.forEach(({ find }, j) => {
    const found = occurrences(text, find);
    if (found.length !== 1) {
      problems.push({
        file: "assignment.json",
        path: `${base}/replace/${j}/find`,
        code: mutantProblemCodes.findNotUnique,
        message: `mutant '${mutant.id}': ${quote(find)} occurs ${found.length} time${found.length === 1 ? "" : "s"} in ${mutant.from}; each find must occur exactly once${found.length > 1 ? " (include more of the line to make it unique)" : ""}`,
      });
      return;
    }
    spans.push({ start: found[0] as number, end: (found[0] as number) + find.length, j });
  });
  spans.sort((a, b) => a.start - b.start);
  for (let k = 1; k < spans.length; k++) {
    const previous = spans[k - 1] as (typeof spans)[number];
    const current = spans[k] as (typeof spans)[number];
    if (current.start < previous.end) {
      problems.push({
        file: "assignment.json",
        path: `${base}/replace/${current.j}/find`,
        code: mutantProblemCodes.findsOverlap,
        message: `mutant '${mutant.id}': overlaps the text of replace/${previous.j} in ${mutant.from}; each change must replace its own text`,
      });
    }
  }
  return problems;
}

/**
 * The source of a mutant as it is graded, or undefined when it cannot be made (checkMutant says why).
 * Every replacement applies to the `from` file as written, never to another replacement's result.
 */
export function mutantSource(mutant: MutantSpec, files: PackFiles): string | undefined {
  if (isFileMutant(mutant)) return files.get(mutant.file);
  if (checkMutant(mutant, 0, files).length > 0) return undefined;
  const text = files.get(mutant.from) as string;
  const edits = mutant.replace.map((r) => ({ start: text.indexOf(r.find), end: text.indexOf(r.find) + r.find.length, with: r.with }));
  edits.sort((a, b) => a.start - b.start);
  let out = "";
  let at = 0;
  for (const edit of edits) {
    out += text.slice(at, edit.start) + edit.with;
    at = edit.end;
  }
  return out + text.slice(at);
}
