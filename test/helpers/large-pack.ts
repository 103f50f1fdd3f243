import { scaffoldPack } from "../../src/cli/scaffold.js";
import { formatJson } from "../../src/packs/format-json.js";
import type { PackFiles } from "../../src/packs/types.js";

/**
 * A legal pack of about 1.9 MB: the scaffold's mean exercise with `perVisibility` public and as many
 * hidden cases, each averaging 900 ones and one distinct number. Every pair of cases agrees until
 * its last value, the worst case for comparing arguments pair by pair.
 */
export function largePack(id: string, perVisibility = 500): PackFiles {
  const files = scaffoldPack(id);
  for (const name of [...files.keys()]) if (name.startsWith("cases/")) files.delete(name);
  const ones = new Array<number>(900).fill(1);
  for (let i = 0; i < 2 * perVisibility; i++) {
    const visibility = i < perVisibility ? "public" : "hidden";
    const caseId = `mean-${visibility}-${i}`;
    files.set(`cases/${caseId}.json`, `${formatJson({ id: caseId, exercise: "mean", visibility, args: [[...ones, i + 2]], expect: { type: "number", reference: true, rtol: 1e-12 } })}\n`);
  }
  return files;
}
