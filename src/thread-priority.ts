import { setPriority } from "node:os";
import { currentThreadId } from "./thread-cpu.js";

/** The nice value of the service's background threads: below the event loop, which answers everyone. */
export const BACKGROUND_NICE = 10;

/**
 * Lowers the calling thread's scheduling priority (Linux: nice is per thread, and setpriority takes a
 * thread id). A worker thread that parses a client's TypeScript or a pack then yields the CPU to the
 * HTTP event loop on a busy machine, so /health answers while it works. Best effort: elsewhere, or
 * without /proc, the thread keeps the default priority.
 */
export function lowerThreadPriority(nice = BACKGROUND_NICE): void {
  try {
    const tid = currentThreadId();
    if (tid !== undefined) setPriority(tid, nice);
  } catch {
    // Not Linux, or not allowed: the thread runs at the default priority.
  }
}
