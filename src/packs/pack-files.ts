import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { PackProblem } from "./problems.js";
import type { PackFiles } from "./types.js";

/** Where each kind of file may live in a pack; anything else is refused, so a typo is not silently ignored. */
const layout: Array<{ pattern: RegExp; what: string }> = [
  { pattern: /^assignment\.json$/, what: "the assignment" },
  { pattern: /^README\.md$/, what: "notes for instructors" },
  { pattern: /^cases\/[a-z0-9][a-z0-9_.-]*\.json$/, what: "a case" },
  { pattern: /^(helpers|reference|starter|mutants)\/[A-Za-z0-9_.-]+\.mjs$/, what: "a module" },
];

export const MAX_PACK_FILES = 2000;

export function checkLayout(files: PackFiles): PackProblem[] {
  const problems: PackProblem[] = [];
  if (files.size > MAX_PACK_FILES) problems.push({ file: "", path: "", message: `a pack may have at most ${MAX_PACK_FILES} files` });
  for (const name of files.keys()) {
    if (!layout.some(({ pattern }) => pattern.test(name))) {
      problems.push({
        file: name,
        path: "",
        message: "unexpected file: a pack holds assignment.json, README.md, cases/<id>.json and .mjs modules under helpers/, reference/, starter/ and mutants/",
      });
    }
  }
  return problems;
}

/** Reads a pack folder. Dotfiles are skipped; sub-folders are read one level deep (cases/, helpers/…). */
export async function readPackDir(dir: string): Promise<PackFiles> {
  const files: PackFiles = new Map();
  async function walk(relative: string, depth: number): Promise<void> {
    const entries = await readdir(path.join(dir, relative), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith(".")) continue;
      const name = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (depth < 1) await walk(name, depth + 1);
        else files.set(`${name}/`, "");
      } else if (entry.isFile()) {
        files.set(name, await readFile(path.join(dir, name), "utf8"));
      } else {
        files.set(name, "");
      }
    }
  }
  await walk("", 0);
  return files;
}

export async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}
