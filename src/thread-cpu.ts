import { readFileSync, readlinkSync } from "node:fs";

/**
 * CPU time of one thread of this process, read from /proc (Linux). A limit on a worker thread's work
 * counts CPU rather than wall-clock time, so that a busy machine does not turn an ordinary source into
 * a "too complex" verdict. Elsewhere these return undefined and callers fall back to wall-clock time.
 */

// Linux reports utime and stime in clock ticks of 1/100 s on every architecture Node supports.
const TICK_MS = 10;

/** The calling thread's id, for threadCpuMs (from another thread). */
export function currentThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isSafeInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) the thread `tid` of this process has used, in ms; undefined if unknown. */
export function threadCpuMs(tid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its end.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * TICK_MS : undefined;
  } catch {
    return undefined;
  }
}
