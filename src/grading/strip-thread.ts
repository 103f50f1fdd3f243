import { parentPort } from "node:worker_threads";
import { currentThreadId } from "../thread-cpu.js";
import { lowerThreadPriority } from "../thread-priority.js";
import { loadTypeScript, stripTypes } from "./typescript.js";

/**
 * One thread of the TypeScript stripping pool (strip-pool.ts). The compiler loads here, when the
 * thread starts, never on a request's path; then each message is one source to strip. The parse is
 * synchronous and its cost is the client's to choose, which is why it runs here and not on the HTTP
 * process's event loop: the pool terminates a thread that takes longer than its limit.
 */

const port = parentPort;
if (port === null) throw new Error("strip-thread.js runs as a worker thread");
lowerThreadPriority();
await loadTypeScript();
port.on("message", (message: { id: number; text: string }) => {
  void stripTypes(message.text).then((result) => port.postMessage({ id: message.id, result }));
});
// The pool reads this thread's CPU time by its id, to limit each source by CPU rather than wall-clock time.
port.postMessage({ ready: true, tid: currentThreadId() });
