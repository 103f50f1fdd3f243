import { readFileSync } from "node:fs";
import path from "node:path";
import { root } from "./app.js";

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
