/**
 * The floor: the reference solution's whole grading with no sandbox at all, in a plain Node process
 * with the JIT on (bench.ts forks this file with no flags), warm.
 *
 * The pack's helper modules and the reference solution are imported directly (written to a temporary
 * folder, with the solution's imports of the helpers pointed at those files), and one grading is what
 * the service does around the sandbox: the same calls (arguments parsed afresh from the job's JSON), each
 * result reduced to JSON data as the prelude does, console output kept in a buffer, and the feedback
 * built by the grading's own comparison (`feedbackFrom`). It must score 100, as in the service.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { loadConfig } from "../src/config.js";
import { readPackDir } from "../src/packs/pack-files.js";
import { parsePack } from "../src/packs/pack.js";
import { runCallChecks } from "../src/grading/call-checks.js";
import { feedbackFrom } from "../src/grading/feedback-from.js";
import { casesToRun, jobFor } from "../src/grading/job.js";
import type { GradablePack } from "../src/packs/types.js";
import { packageRoot } from "../src/paths.js";
import type { JobReport } from "../src/sandbox/pool.js";
import type { CallOutcome } from "../src/sandbox/outcomes.js";

export interface FloorRequest {
  assignment: string;
  warmup: number;
  n: number;
}

export interface FloorReply {
  /** The first grading in this fresh process (cold JIT), ms. */
  firstMs: number;
  samples: number[];
  allFull: boolean;
  flags: string;
}

async function floor(request: FloorRequest): Promise<FloorReply> {
  const files = await readPackDir(path.join(packageRoot, "graders", request.assignment));
  const { pack, problems } = parsePack(files, request.assignment);
  if (pack === undefined) throw new Error(`the pack does not parse: ${JSON.stringify(problems)}`);
  const config = loadConfig({});
  const reference = files.get(pack.assignment.reference) ?? "";

  // The helpers as files, and the solution importing them by path instead of by bare specifier.
  const dir = mkdtempSync(path.join(os.tmpdir(), "gradebox-floor-"));
  let solutionSource = reference;
  for (const [specifier, file] of Object.entries(pack.assignment.imports)) {
    const target = path.join(dir, `${specifier.replace(/[^A-Za-z0-9_-]/g, "_")}.mjs`);
    writeFileSync(target, files.get(file) ?? "");
    const url = JSON.stringify(pathToFileURL(target).href);
    solutionSource = solutionSource.replaceAll(`"${specifier}"`, url).replaceAll(`'${specifier}'`, url);
  }
  const solutionPath = path.join(dir, "solution.mjs");
  writeFileSync(solutionPath, solutionSource);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(solutionPath).href)) as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // Console output goes to a buffer, as in the sandbox.
  let output = "";
  const log = (...args: unknown[]): void => {
    output += `${args.map(String).join(" ")}\n`;
  };
  Object.assign(console, { log, info: log, warn: log, error: log, debug: log });

  const cases = casesToRun(pack);
  const spec = jobFor(pack, cases, reference, config.limits);
  const calls = spec.calls.map((c) => ({ fn: exports[c.exportName] as (...a: unknown[]) => unknown, argsJson: c.argsJson, keepOutput: c.keepOutput, checks: c.checks }));

  function run(): JobReport {
    const report: JobReport = { load: { kind: "loaded" }, loadOutput: "", calls: [], droppedOutput: 0, workerId: 0, durationMs: 0 };
    for (const call of calls) {
      output = "";
      const started = performance.now();
      const args = JSON.parse(call.argsJson) as unknown[];
      const value = call.fn(...args);
      // The arguments after the call, where a case checks them (the prelude sends them back then).
      const outcome: CallOutcome = { kind: "value", value: JSON.parse(JSON.stringify(value) ?? "null"), ...(call.checks?.argsAfter !== undefined ? { args: JSON.parse(JSON.stringify(args)) as Extract<CallOutcome, { kind: "value" }>["args"] } : {}) };
      // What printed and what became of the arguments, checked as the worker checks them.
      const checks = call.checks === undefined ? undefined : runCallChecks(call.checks, call.argsJson, outcome, output, 0);
      report.calls.push({ outcome, output: call.keepOutput ? output : "", durationMs: performance.now() - started, ...(checks !== undefined ? { checks } : {}) });
    }
    return report;
  }

  // The reference's own values, for the cases that compare with them (the service's self-test does the same).
  const t0 = performance.now();
  const first = run();
  const firstMs = performance.now() - t0;
  const referenceValues = new Map<string, unknown>();
  cases.forEach((c, i) => {
    const outcome = first.calls[i]?.outcome;
    if (outcome?.kind === "value") referenceValues.set(c.id, outcome.value);
  });
  const gradable: GradablePack = { pack, referenceValues, limits: config.limits };

  function grading(): boolean {
    const started = performance.now();
    const report = run();
    const feedback = feedbackFrom({ gradable, cases, report, limits: config.limits, resultMaxDepth: config.resultMaxDepth, id: "floor", durationMs: performance.now() - started });
    return feedback.status === "graded" && feedback.score === feedback.maxScore;
  }

  let allFull = grading();
  for (let i = 0; i < request.warmup; i++) allFull = grading() && allFull;
  const samples: number[] = [];
  for (let i = 0; i < request.n; i++) {
    const started = performance.now();
    allFull = grading() && allFull;
    samples.push(performance.now() - started);
  }
  return { firstMs, samples, allFull, flags: process.execArgv.join(" ") || "none (JIT on)" };
}

process.once("message", (request: FloorRequest) => {
  floor(request).then(
    (reply) => process.send?.(reply, () => process.exit(0)),
    (error: unknown) => process.send?.({ error: error instanceof Error ? error.stack : String(error) }, () => process.exit(1)),
  );
});
