import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { lowerThreadPriority } from "../thread-priority.js";
import { parsePack } from "./pack.js";
import type { Pack, PackFiles } from "./types.js";
import type { PackProblem } from "./problems.js";

/**
 * Parses and validates an uploaded pack in a worker thread. Every check is linear in the pack's size,
 * but a pack may be PACK_KIB (4 MiB by default) of JSON, and parsing, validating and hashing that much
 * takes long enough on a busy machine to delay every other answer, /health included. A thread per
 * upload keeps the event loop free; uploads are an instructor's act, rare enough for the thread's start.
 */
export function parsePackInThread(files: PackFiles, expectedId?: string): Promise<{ pack?: Pack; problems: PackProblem[] }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { files, expectedId }, env: {} });
    let settled = false;
    worker.once("message", (result: { pack?: Pack; problems: PackProblem[] }) => {
      settled = true;
      resolve(result);
      void worker.terminate();
    });
    worker.once("error", (error) => {
      settled = true;
      reject(error);
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new Error(`the pack parser stopped (exit code ${code})`));
    });
  });
}

if (!isMainThread && parentPort !== null && (workerData as { files?: unknown } | undefined)?.files instanceof Map) {
  lowerThreadPriority();
  const { files, expectedId } = workerData as { files: PackFiles; expectedId?: string };
  parentPort.postMessage(parsePack(files, expectedId));
}
