// Compiles native/no-exec.c into dist/native/no-exec.so: the second seccomp filter, which forbids execve in
// every confined grading worker (see the C file and src/sandbox/confinement.ts). Run by `npm run build`.
//
// Without a C compiler (`cc`, or $CC) the build says so and goes on without the object: confined workers then
// run with bubblewrap's filter only, and the service says so at start and in /health (`execve: "allowed"`);
// the README's "The second wall" gives the reasons. A compiler that is there but fails (a missing libc6-dev,
// an error in the source) fails the build: that is a bug to fix, not a choice.
import { mkdirSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const source = path.join(root, "native", "no-exec.c");
const out = path.join(root, "dist", "native", "no-exec.so");
const cc = process.env.CC || "cc";

mkdirSync(path.dirname(out), { recursive: true });
// No object from an earlier build may outlive its source: dist/native holds what this build made, or nothing.
rmSync(out, { force: true });
const result = spawnSync(cc, ["-O2", "-Wall", "-Werror", "-shared", "-fPIC", "-o", out, source], { stdio: "inherit" });
if (result.error?.code === "ENOENT") {
  console.warn(
    `build-native: no C compiler (${cc}): dist/native/no-exec.so not built. Confined grading workers will run with `
    + "bubblewrap's seccomp filter only, which cannot forbid execve. Install one (Debian: apt-get install gcc libc6-dev) and build again.",
  );
} else if (result.error !== undefined || result.status !== 0) {
  console.error(`build-native: ${cc} failed to compile native/no-exec.c (${result.error?.message ?? `exit code ${result.status}`}); on Debian: apt-get install gcc libc6-dev`);
  process.exit(1);
}
