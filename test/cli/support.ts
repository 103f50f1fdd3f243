import t from "tap";
import { execFile } from "node:child_process";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { root } from "../helpers/app.js";

/** Shared by the gradebox-pack tests: run the built CLI as instructors do, on a scratch copy of a pack. */

const cli = path.join(root, "dist", "src", "cli", "pack.js");

export function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, WORKERS: "2", LOG_LEVEL: "silent" } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr });
    });
  });
}

/** A scratch folder for this test file, removed when it ends. */
export async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "gradebox-cli-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A copy of the gradient-checking pack under `scratch`, to break without touching the real one. */
export async function copyPack(scratch: string, name: string): Promise<string> {
  const dir = path.join(scratch, name, "gradient-checking");
  await cp(path.join(root, "graders", "gradient-checking"), dir, { recursive: true });
  return dir;
}
