import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import t, { type Test } from "tap";
import { cgroupNote } from "../../src/sandbox/cgroup.js";

// A host's cgroup layout, written as files: /proc/self/cgroup and the cgroup2 mount it points into.
function host(t: Test, membership: string, tree: Record<string, string> = {}): { root: string; self: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "gradebox-cgroup-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const root = path.join(dir, "sys-fs-cgroup");
  for (const [file, text] of Object.entries(tree)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  const self = path.join(dir, "self-cgroup");
  writeFileSync(self, membership);
  return { root, self };
}

t.test("on a hybrid host the health note says the controllers are on cgroup v1", async (t) => {
  const { root, self } = host(t, "4:memory:/jobs/a\n1:cpu:/\n0::/\n", { "cgroup.controllers": "" });
  const note = cgroupNote(root, self);
  t.match(note, /^not applied: the memory and cpu controllers are on cgroup v1 here \(memory, cpu\), not cgroup v2;/);
  t.match(note, /memory is bounded by the isolate heap limit and WORKER_RSS_MB/, "and says what bounds a worker instead");
});

t.test("on cgroup v2 without the controllers delegated the note names the missing ones and the cgroup", async (t) => {
  const { root, self } = host(t, "0::/system.slice/gradebox.service\n", { "system.slice/gradebox.service/cgroup.controllers": "pids io\n" });
  t.match(cgroupNote(root, self), /the memory and cpu controllers are not delegated to this process's cgroup \(.*system\.slice\/gradebox\.service\)/);
  const cpuOnly = host(t, "0::/w\n", { "w/cgroup.controllers": "cpu pids\n" });
  t.match(cgroupNote(cpuOnly.root, cpuOnly.self), /the memory controller is not delegated/);
});

t.test("a cgroup v2 membership with no cgroup2 mount says so", async (t) => {
  const { root, self } = host(t, "0::/x\n");
  t.match(cgroupNote(root, self), /cgroup v2 is not mounted at /);
});

t.test("this machine's note is one of the explained reasons, never a bare 'not applied'", async (t) => {
  t.match(cgroupNote(), /^not applied: .+; memory is bounded by/);
});
