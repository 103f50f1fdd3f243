import t from "tap";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { root } from "../helpers/app.js";
import { checkConfinement, confinementState, NO_EXEC_SHIM, seccompFilterCount } from "../../src/sandbox/confinement.js";
import { seccompArch } from "../../src/sandbox/seccomp.js";

// Issue 18: bubblewrap's seccomp filter must allow the one execve that starts node, so each confined worker
// installs a second filter itself, before node's main, that answers EPERM to execve and execveat: the shim
// native/no-exec.c, built by `npm run build` into dist/native/no-exec.so and preloaded by bubblewrap. Here the
// shim is tested on its own, on real programs (from inside a worker there is no way to attempt an execve from
// JavaScript on Node 20: no process.execve, and child_process forks first, which bubblewrap's filter denies),
// and the start check is shown to notice when the second filter is not in force. That a confined worker is
// under both filters is checked from outside in confinement.test.ts.

const arch = seccompArch();
const built = existsSync(NO_EXEC_SHIM);
// CI installs gcc (.ci/run), so the shim is always built there: its absence fails rather than skips.
t.ok(built, `npm run build made ${NO_EXEC_SHIM} (it needs a C compiler: apt-get install gcc libc6-dev)`);

/** Runs a program with the shim preloaded (or not), with an otherwise empty environment. */
function run(command: string, args: string[], preload: boolean): SpawnSyncReturns<string> {
  return spawnSync(command, args, { env: preload ? { LD_PRELOAD: NO_EXEC_SHIM } : {}, encoding: "utf8", timeout: 20_000 });
}

t.test("a program under the shim cannot replace itself by another: execve fails with 'Operation not permitted'; without it, it can", { skip: built ? false : "no shim built" }, async (t) => {
  const without = run("/bin/sh", ["-c", "exec /bin/true"], false);
  t.equal(without.status, 0, "without the shim, sh executes /bin/true");
  const under = run("/bin/sh", ["-c", "exec /bin/true"], true);
  t.not(under.status, 0, "under it, the exec fails");
  t.match(under.stderr, /exec: \/bin\/true: Operation not permitted/, `sh says why: ${under.stderr.trim()}`);
  // The shell itself ran (the filter stops execve, not the program that installed it).
  const echo = run("/bin/sh", ["-c", "echo still here"], true);
  t.equal(echo.stdout, "still here\n", "a shell under the shim still runs its builtins");
});

t.test("execveat, the other way to execute a program, fails too", { skip: built && arch !== undefined ? false : "no shim built" }, async (t) => {
  const execveat = { x64: "322", arm64: "281" }[arch ?? "x64"];
  const script = path.join(root, "test", "fixtures", "no-exec", "execveat.pl");
  const without = run("/usr/bin/perl", [script, execveat], false);
  t.equal(without.status, 0, `without the shim, execveat runs /bin/true${without.stderr ? ` (${without.stderr.trim()})` : ""}`);
  const under = run("/usr/bin/perl", [script, execveat], true);
  t.equal(under.status, 3, "under it, execveat returns");
  t.match(under.stderr, /execveat: Operation not permitted/, "with EPERM");
});

t.test("node runs under the shim, and a child it starts inherits the filter and cannot execute a program", { skip: built ? false : "no shim built" }, async (t) => {
  // Filters pass to children: a child node forks cannot exec either, though its own environment no longer
  // names the shim (outside the sandbox node can fork; inside, bubblewrap's filter stops the fork first).
  const node = run(process.execPath, ["-e", [
    "const s=require('fs').readFileSync('/proc/self/status','utf8');",
    "const r=require('child_process').spawnSync('/bin/true',{env:{}});",
    "process.stdout.write(JSON.stringify({seccomp:/^Seccomp:\\s*2$/m.test(s),spawn:r.error?r.error.code:r.status}))",
  ].join("")], true);
  t.same(JSON.parse(node.stdout), { seccomp: true, spawn: "EPERM" }, "node runs under seccomp, and a child it starts cannot exec");
});

t.test("when the shim cannot install its filter, the process stops at once and says why", { skip: built && arch !== undefined ? false : "no shim built" }, async (t) => {
  // A bubblewrap whose own filter refuses prctl: the shim's first call fails, as any failure to install would.
  const prctl = { x64: 157, arm64: 167 }[arch ?? "x64"];
  const auditArch = { x64: 0xc000003e, arm64: 0xc00000b7 }[arch ?? "x64"];
  const program = [
    [0x20, 0, 0, 4], // load seccomp_data.arch
    [0x15, 1, 0, auditArch], // this architecture: skip the kill
    [0x06, 0, 0, 0x80000000], // kill the process
    [0x20, 0, 0, 0], // load seccomp_data.nr
    [0x15, 0, 1, prctl], // prctl:
    [0x06, 0, 0, 0x00050000 | 1], //   EPERM
    [0x06, 0, 0, 0x7fff0000], // allow the rest
  ];
  const filter = Buffer.alloc(program.length * 8);
  program.forEach(([code, jt, jf, k], i) => {
    filter.writeUInt16LE(code as number, i * 8);
    filter.writeUInt8(jt as number, i * 8 + 2);
    filter.writeUInt8(jf as number, i * 8 + 3);
    filter.writeUInt32LE((k as number) >>> 0, i * 8 + 4);
  });
  const result = spawnSync("bwrap", ["--unshare-user", "--dev-bind", "/", "/", "--seccomp", "0", "--setenv", "LD_PRELOAD", NO_EXEC_SHIM, "--", "/bin/sh", "-c", "echo ran"], {
    input: filter, env: {}, encoding: "utf8", timeout: 20_000,
  });
  t.equal(result.stdout, "", "the program never ran");
  t.not(result.status, 0, `it failed (exit ${result.status})`);
  t.match(result.stderr, /gradebox no-exec\.so: cannot install the seccomp filter that forbids execve: Operation not permitted/, "stderr says why");
});

t.test("the start check verifies the second filter, and says so when it cannot be in force", async (t) => {
  const check = checkConfinement();
  if ("error" in check) return t.fail(check.error);
  t.same(check.execve.execve, built ? "denied" : "allowed", `with ${built ? "the" : "no"} shim built, execve is ${check.execve.execve}`);

  // A shim that does not load (not an ELF object: ld.so only warns and runs node without it) must fail the check,
  // rather than let workers run without the filter the service believes in force.
  const broken = checkConfinement({ shim: path.join(root, "package.json") });
  t.match("error" in broken ? broken.error : "", /^the second seccomp filter \(no execve\) is not in force: a confined test worker did not load .*package\.json.*cannot be preloaded/, "a shim that does not load fails the check, with ld.so's words");

  // No shim built (no C compiler): workers still start confined, and the report says execve is allowed, and why.
  const none = checkConfinement({ shim: null });
  if ("error" in none) return t.fail(none.error);
  t.equal(none.execve.execve, "allowed");
  t.match(none.execve.execveReason, /no-exec\.so was not built \(no C compiler/, "the reason names the missing build and how to fix it");
  const state = confinementState("required", none.execve);
  t.equal(state.inForce, "bubblewrap+seccomp", "the first filter and the empty view still stand");
  t.equal(state.execve, "allowed");
  t.equal(confinementState("off").execve, "allowed", "CONFINEMENT=off: allowed");
});

t.test("Seccomp_filters is read from a process's status, and is null on kernels that do not show it", async (t) => {
  t.equal(seccompFilterCount("Seccomp:\t2\nSeccomp_filters:\t2\n"), 2);
  t.equal(seccompFilterCount("Seccomp:\t2\n"), null);
  const own = seccompFilterCount(readFileSync("/proc/self/status", "utf8"));
  t.comment(`this kernel ${own === null ? "does not show Seccomp_filters (< 5.9)" : `shows Seccomp_filters (this process: ${own})`}`);
});
