import { readFileSync } from "node:fs";
import path from "node:path";
import { root } from "./app.js";
import { isFileMutant, mutantDescription, mutantId, mutantSource, type MutantSpec } from "../../src/packs/mutants.js";

export function readRepoFile(...parts: string[]): string {
  return readFileSync(path.join(root, ...parts), "utf8");
}

/** A file of the gradient-checking pack, e.g. packFile("reference/solution.mjs"). */
export function packFile(file: string, pack = "gradient-checking"): string {
  return readRepoFile("graders", pack, file);
}

/** A submission fixture under test/fixtures/. */
export function fixture(file: string): string {
  return readRepoFile("test", "fixtures", file);
}

/**
 * A pack's mutants as they are graded, whole-file ones and those made from the reference by
 * replacements alike, through the service's own materialiser.
 */
export function packMutants(pack = "gradient-checking"): Array<{ id: string; description: string; mustFail: string[]; source: string }> {
  const { mutants } = JSON.parse(packFile("assignment.json", pack)) as { mutants: MutantSpec[] };
  return mutants.map((spec) => {
    const file = isFileMutant(spec) ? spec.file : spec.from;
    const source = mutantSource(spec, new Map([[file, packFile(file, pack)]]));
    if (source === undefined) throw new Error(`mutant ${mutantId(spec)} of ${pack} cannot be made`);
    return { id: mutantId(spec), description: mutantDescription(spec), mustFail: spec.mustFail ?? [], source };
  });
}

/** One mutant's source, by id, e.g. packMutant("hardcoded-forward"). */
export function packMutant(id: string, pack = "gradient-checking"): string {
  const mutant = packMutants(pack).find((m) => m.id === id);
  if (mutant === undefined) throw new Error(`${pack} has no mutant ${id}`);
  return mutant.source;
}
