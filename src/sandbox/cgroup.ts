import { accessSync, constants, readFileSync } from "node:fs";
import path from "node:path";

/**
 * Why the grading workers get no cgroup v2 memory and CPU limits on this host, in a sentence for /health.
 * The limits they have instead are the isolate's heap limit, the pool's WORKER_RSS_MB kill and the deadlines.
 *
 * Applying cgroup limits needs a cgroup v2 hierarchy with the `memory` and `cpu` controllers delegated to a
 * cgroup the service may write (systemd's `Delegate=yes`, or a container given a writable cgroup): this reads
 * which of those is missing, so that an operator knows what to change. `root` and `self` are parameters for
 * the tests.
 */
export function cgroupNote(root = "/sys/fs/cgroup", self = "/proc/self/cgroup"): string {
  const instead = "memory is bounded by the isolate heap limit and WORKER_RSS_MB, CPU by the budgets and deadlines";
  return `not applied: ${cgroupObstacle(root, self)}; ${instead}`;
}

function cgroupObstacle(root: string, self: string): string {
  let membership: string;
  try {
    membership = readFileSync(self, "utf8");
  } catch {
    return `${self} is not readable`;
  }
  const lines = membership.split("\n").filter((line) => line !== "");
  const unified = lines.find((line) => line.startsWith("0::"));
  const v1 = lines.filter((line) => !line.startsWith("0::")).map((line) => line.split(":")[1] ?? "").filter((c) => /\b(memory|cpu)\b/.test(c));
  if (v1.length > 0) return `the memory and cpu controllers are on cgroup v1 here (${v1.join(", ")}), not cgroup v2`;
  if (unified === undefined) return "this process is in no cgroup v2";
  let controllers: string[];
  const own = path.join(root, unified.slice(3));
  try {
    controllers = readFileSync(path.join(own, "cgroup.controllers"), "utf8").trim().split(/\s+/);
  } catch {
    return `cgroup v2 is not mounted at ${root}`;
  }
  const missing = ["memory", "cpu"].filter((c) => !controllers.includes(c));
  if (missing.length > 0) return `the ${missing.join(" and ")} controller${missing.length > 1 ? "s are" : " is"} not delegated to this process's cgroup (${own})`;
  try {
    accessSync(own, constants.W_OK);
  } catch {
    return `this process's cgroup (${own}) is not writable (in Docker, /sys/fs/cgroup is mounted read-only)`;
  }
  return `the cgroup (${own}) is writable with memory and cpu delegated, but this version does not yet create per-worker cgroups`;
}
