import { Ajv } from "ajv";
import type { Limits } from "../config.js";
import type { CallOutcome, LoadOutcome } from "./outcomes.js";

/**
 * Messages between the service and a worker process. The worker runs student code (inside an
 * isolate), so the service checks every message it receives against these schemas before using it.
 */

/** A module a submission may import, by the specifier it imports it with (the pack's helpers). */
export interface HelperModule {
  specifier: string;
  source: string;
}

export interface JobCall {
  exportName: string;
  argsJson: string;
  /** Keep this call's console output (public cases); hidden cases' output is dropped in the worker. */
  keepOutput: boolean;
  /**
   * Calls that share a stop group are not run once one of them timed out (an all-or-nothing exercise
   * already scores 0 then: its remaining calls could only cost a worker their whole time limit).
   */
  stopGroup?: string;
}

export interface GradeJob {
  type: "grade";
  jobId: string;
  source: string;
  helpers: HelperModule[];
  keepGlobals: string[];
  calls: JobCall[];
  limits: Limits;
  killGraceMs: number;
  resultMaxDepth: number;
  /** The worker's last job before it is retired: it need not prepare an isolate for a next one. */
  last?: boolean;
}

/** Where a job's time went in the worker (ms), for the benchmark. Optional in `done`. */
export interface JobPhases {
  /** Creating the isolate, and the context with the prelude: before the job arrived when `preparedAhead`. */
  isolateMs: number;
  contextMs: number;
  preparedAhead: boolean;
  /** From the job's arrival until its isolate was ready. */
  setupWaitMs: number;
  /** Compiling, linking and evaluating the submission and its helpers. */
  loadMs: number;
  /** Running the calls, host round trips and reports included. */
  testsMs: number;
  /** Disposing of the previous job's isolate, done after that job's reply. */
  previousDisposeMs?: number;
}

export type WorkerMessage =
  | { type: "ready"; pid: number }
  | { type: "loaded"; jobId: string; outcome: LoadOutcome; output: string; dropped: number }
  /** `ms`: how long the call ran in the worker, host round trips included. */
  | { type: "call"; jobId: string; index: number; outcome: CallOutcome; output: string; dropped: number; ms: number }
  | { type: "done"; jobId: string; tainted: boolean; phases?: JobPhases };

const ms = { type: "number", minimum: 0 };
const bounded = (max: number) => ({ type: "string", maxLength: max });
const thrownError = {
  type: "object",
  required: ["name", "message", "stack"],
  properties: { name: bounded(1000), message: bounded(10000), stack: bounded(10000) },
};

const loadOutcome = {
  type: "object",
  required: ["kind"],
  properties: {
    kind: { enum: ["loaded", "syntax-error", "forbidden-import", "link-error", "threw", "never-settled", "timeout", "memory", "crashed"] },
    message: bounded(10000),
    line: { type: "integer" },
    column: { type: "integer" },
    specifier: bounded(10000),
    allowed: { type: "array", items: { type: "string" } },
    error: thrownError,
    limitMs: { type: "number" },
    limitMb: { type: "number" },
    detail: bounded(10000),
  },
};

const callOutcome = {
  type: "object",
  required: ["kind"],
  properties: {
    kind: { enum: ["value", "threw", "missing", "unserializable", "never-settled", "timeout", "memory", "crashed", "not-run"] },
    during: { enum: ["call", "result", "load"] },
    error: thrownError,
    type: { type: "string" },
    reason: { enum: ["too-large", "too-deep", "sandbox-lost", "budget", "skipped"] },
    limitMs: { type: "number" },
    limitMb: { type: "number" },
    detail: bounded(10000),
  },
  allOf: [
    { if: { properties: { kind: { const: "value" } } }, then: { required: ["value"] } },
    { if: { properties: { kind: { const: "threw" } } }, then: { required: ["error", "during"] } },
  ],
};

export const workerMessageSchema = {
  oneOf: [
    { type: "object", required: ["type", "pid"], properties: { type: { const: "ready" }, pid: { type: "integer" } } },
    {
      type: "object",
      required: ["type", "jobId", "outcome", "output", "dropped"],
      properties: { type: { const: "loaded" }, jobId: { type: "string" }, outcome: loadOutcome, output: { type: "string" }, dropped: { type: "integer" } },
    },
    {
      type: "object",
      required: ["type", "jobId", "index", "outcome", "output", "dropped", "ms"],
      properties: {
        type: { const: "call" },
        ms: { type: "number", minimum: 0 },
        jobId: { type: "string" },
        index: { type: "integer", minimum: 0 },
        outcome: callOutcome,
        output: { type: "string" },
        dropped: { type: "integer" },
      },
    },
    {
      type: "object",
      required: ["type", "jobId", "tainted"],
      properties: {
        type: { const: "done" },
        jobId: { type: "string" },
        tainted: { type: "boolean" },
        phases: {
          type: "object",
          required: ["isolateMs", "contextMs", "preparedAhead", "setupWaitMs", "loadMs", "testsMs"],
          additionalProperties: false,
          properties: {
            isolateMs: ms,
            contextMs: ms,
            preparedAhead: { type: "boolean" },
            setupWaitMs: ms,
            loadMs: ms,
            testsMs: ms,
            previousDisposeMs: ms,
          },
        },
      },
    },
  ],
};

const ajv = new Ajv({ strict: false, allErrors: false });
export const isWorkerMessage = ajv.compile<WorkerMessage>(workerMessageSchema);
