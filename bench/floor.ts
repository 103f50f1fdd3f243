/**
 * Child process of bench.ts (forked with the grading workers' flags: --no-node-snapshot --jitless).
 * It grades the job it is sent with IsolateSession directly, one fresh isolate per grading, without
 * the pool, IPC or HTTP: the floor the service's figures are to be compared with.
 */
import { IsolateSession } from "../src/sandbox/isolate-session.js";
import type { JobSpec } from "../src/sandbox/pool.js";

export interface FloorRequest {
  spec: JobSpec;
  warmup: number;
  n: number;
  killGraceMs: number;
  resultMaxDepth: number;
}

export interface FloorSample {
  totalMs: number;
  newIsolateMs: number;
  loadMs: number;
  callsMs: number;
  /** Of callsMs, the calls of the export that costs most (gradient_check_n here). */
  byExportMs: Record<string, number>;
  disposeMs: number;
  ok: boolean;
}

async function once(request: FloorRequest): Promise<FloorSample> {
  const { spec } = request;
  const t0 = performance.now();
  const session = new IsolateSession(spec.limits, request.killGraceMs, request.resultMaxDepth);
  const t1 = performance.now();
  let ok = true;
  const byExportMs: Record<string, number> = {};
  let t2 = t1;
  let t3 = t1;
  try {
    const loaded = await session.load({ source: spec.source, helpers: spec.helpers, keepGlobals: spec.keepGlobals });
    await session.takeOutput();
    t2 = performance.now();
    if (loaded.kind !== "loaded") ok = false;
    for (const call of spec.calls) {
      const c0 = performance.now();
      const outcome = await session.call(call.exportName, call.argsJson);
      await session.takeOutput();
      byExportMs[call.exportName] = (byExportMs[call.exportName] ?? 0) + performance.now() - c0;
      if (outcome.kind !== "value") ok = false;
    }
    t3 = performance.now();
  } finally {
    session.dispose();
  }
  const t4 = performance.now();
  return { totalMs: t4 - t0, newIsolateMs: t1 - t0, loadMs: t2 - t1, callsMs: t3 - t2, byExportMs, disposeMs: t4 - t3, ok };
}

process.once("message", (request: FloorRequest) => {
  void (async () => {
    const samples: FloorSample[] = [];
    for (let i = 0; i < request.warmup + request.n; i++) {
      const sample = await once(request);
      if (i >= request.warmup) samples.push(sample);
    }
    process.send?.({ samples }, () => process.exit(0));
  })().catch((error: unknown) => {
    process.send?.({ error: error instanceof Error ? error.message : String(error) }, () => process.exit(1));
  });
});
