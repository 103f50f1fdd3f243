import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Builds Gradescope's autograder zip (`npm run kit:gradescope`): setup.sh and run_autograder at the
 * zip's root, as Gradescope requires, beside the script, the client and gradebox.env. gradebox.env is
 * written from GRADEBOX_URL, GRADEBOX_API_KEY and GRADEBOX_ASSIGNMENT when they are set at build time,
 * else copied from the example for the instructor to fill. Uses Debian's zip (.ci/run installs it).
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const kit = path.join(root, "integrations");

export function gradescopeEnv(env: NodeJS.ProcessEnv): string | undefined {
  const names = ["GRADEBOX_URL", "GRADEBOX_API_KEY", "GRADEBOX_ASSIGNMENT"] as const;
  if (names.every((name) => env[name] === undefined)) return undefined;
  return `${names.filter((name) => env[name] !== undefined).map((name) => `${name}=${env[name]}`).join("\n")}\n`;
}

export function buildGradescopeKit(zipFile: string, env: NodeJS.ProcessEnv = process.env): string {
  const stage = mkdtempSync(path.join(os.tmpdir(), "gradebox-kit-"));
  try {
    for (const file of ["setup.sh", "run_autograder", "gradescope.mjs"]) copyFileSync(path.join(kit, "gradescope", file), path.join(stage, file));
    copyFileSync(path.join(kit, "common", "gradebox-client.mjs"), path.join(stage, "gradebox-client.mjs"));
    const settings = gradescopeEnv(env);
    if (settings === undefined) copyFileSync(path.join(kit, "gradescope", "gradebox.env.example"), path.join(stage, "gradebox.env"));
    else writeFileSync(path.join(stage, "gradebox.env"), settings, { mode: 0o600 });
    mkdirSync(path.dirname(zipFile), { recursive: true });
    rmSync(zipFile, { force: true });
    // -X: no extra file attributes, so the same files give the same zip.
    execFileSync("zip", ["-q", "-X", zipFile, "setup.sh", "run_autograder", "gradescope.mjs", "gradebox-client.mjs", "gradebox.env"], { cwd: stage });
    return zipFile;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith("kit-gradescope.js")) {
  const out = buildGradescopeKit(path.resolve(process.argv[2] ?? path.join(root, "dist", "kits", "gradebox-gradescope.zip")));
  process.stdout.write(`${out}\n`);
}
