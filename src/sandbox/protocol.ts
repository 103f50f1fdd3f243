import { Type, type Static } from "@sinclair/typebox";
import { Ajv } from "ajv";
import type { Limits } from "../config.js";
import type { ArgsExpectation, OutputExpectation } from "../packs/types.js";
import { callOutcomeSchema, workerLoadOutcomeSchema } from "./outcomes.js";

/**
 * Messages between the service and a worker process. The worker runs student code (inside an
 * isolate), so the service checks every message it receives against the schema below before using
 * it; the type of those messages is derived from the schema (TypeBox), so the two cannot drift. The
 * jobs the service sends are trusted and only typed.
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
  /**
   * What the call must print and leave of its arguments, checked in the worker. For a hidden case only
   * the verdicts come back, never the printed text or the arguments.
   */
  checks?: CallChecks;
  /**
   * The call's budget of CPU time (ms, the worker process's while the call runs), learnt from the reference (packs/budgets.ts). CPU time, not
   * the clock, so that a loaded machine does not fail an honest call; CALL_TIMEOUT_MS stays the wall-clock guard.
   */
  budgetMs?: number;
}

/** A job's CPU-time budgets beyond its calls' (ms): its load's, and the whole job's (load and calls). */
export interface JobBudget {
  loadMs: number;
  totalMs: number;
}

/** A call's checks beyond its returned value: what it prints, and what becomes of its arguments (the case's output and argsAfter). */
export interface CallChecks {
  output?: OutputExpectation;
  argsAfter?: ArgsExpectation;
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
  /** Budgets of CPU time learnt from the reference; without them, only the wall-clock limits apply. */
  budget?: JobBudget;
  /** The worker's last job before it is retired: it need not prepare an isolate for a next one. */
  last?: boolean;
}

const ms = Type.Number({ minimum: 0 });

/** Where a job's time went in the worker (ms), for the benchmark. Optional in `done`. */
const jobPhasesSchema = Type.Object({
  /** Creating the isolate, and the context with the prelude: before the job arrived when `preparedAhead`. */
  isolateMs: ms,
  contextMs: ms,
  preparedAhead: Type.Boolean(),
  /** From the job's arrival until its isolate was ready. */
  setupWaitMs: ms,
  /** Compiling, linking and evaluating the submission and its helpers. */
  loadMs: ms,
  /** Running the calls, host round trips and reports included. */
  testsMs: ms,
  /** The worker's CPU time while loading the submission (the reference's gives the load budget). */
  loadCpuMs: Type.Optional(ms),
  /** Disposing of the previous job's isolate, done after that job's reply. */
  previousDisposeMs: Type.Optional(ms),
}, { additionalProperties: false });

export type JobPhases = Static<typeof jobPhasesSchema>;

/** The worker's verdicts on a call's checks: true met, false not; present only for the checks asked, and only when the call returned a value. */
const checkVerdictsSchema = Type.Object({ output: Type.Optional(Type.Boolean()), args: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

export type CheckVerdicts = Static<typeof checkVerdictsSchema>;

export const workerMessageSchema = Type.Union([
  Type.Object({ type: Type.Literal("ready"), pid: Type.Integer() }),
  Type.Object({ type: Type.Literal("loaded"), jobId: Type.String(), outcome: workerLoadOutcomeSchema, output: Type.String(), dropped: Type.Integer() }),
  Type.Object({
    type: Type.Literal("call"),
    jobId: Type.String(),
    index: Type.Integer({ minimum: 0 }),
    outcome: callOutcomeSchema,
    output: Type.String(),
    dropped: Type.Integer(),
    /** How long the call ran in the worker, host round trips included. */
    ms,
    /** The worker's CPU time during the call (the reference's gives the call budgets). */
    cpuMs: Type.Optional(ms),
    checks: Type.Optional(checkVerdictsSchema),
  }),
  Type.Object({ type: Type.Literal("done"), jobId: Type.String(), tainted: Type.Boolean(), phases: Type.Optional(jobPhasesSchema) }),
]);

export type WorkerMessage = Static<typeof workerMessageSchema>;

const ajv = new Ajv({ strict: false, allErrors: false });
export const isWorkerMessage = ajv.compile<WorkerMessage>(workerMessageSchema);
