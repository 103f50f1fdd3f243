import type { FromSchema } from "json-schema-to-ts";
import type { Limits } from "../config.js";
import type { assignmentSchema, caseSchema } from "../generated/schemas.js";

/**
 * The pack's data types: what assignment.json and cases/*.json hold, and a parsed pack. They are
 * derived from the JSON Schemas in submissions-schema/pack/ (the one description of those files), and
 * this is a leaf module, so that both the pack loader and the grading code can use them.
 */

/** A pack as data: its files by relative POSIX path, as UTF-8 text. */
export type PackFiles = Map<string, string>;

/**
 * A mutant's two forms. The schema tells them apart with if/then/else (for precise error messages),
 * which FromSchema cannot follow, so each form is derived from its own branch.
 */
type MutantItems = (typeof assignmentSchema)["properties"]["mutants"]["items"];
export type MutantSpec = FromSchema<MutantItems["then"]> | FromSchema<MutantItems["else"]>;

/** assignment.json. */
export type Assignment = Omit<FromSchema<typeof assignmentSchema>, "mutants"> & { mutants: MutantSpec[] };
export type Exercise = Assignment["exercises"][number];
export type Scoring = Exercise["scoring"];

/** A case as its file holds it. */
export type CaseFile = FromSchema<typeof caseSchema>;
export type Expectation = CaseFile["expect"];
export type ValueType = NonNullable<Expectation["type"]>;
/** What a call must print (the case's output), and what it must leave of its arguments (argsAfter). */
export type OutputExpectation = NonNullable<CaseFile["output"]>;
export type OutputFromValue = NonNullable<OutputExpectation["fromValue"]>;
export type OutputRule = OutputFromValue["when"][number];
export type ArgsExpectation = NonNullable<CaseFile["argsAfter"]>;

export type Case = CaseFile & {
  /** The pack-relative file it came from. */
  file: string;
};

export interface Pack {
  id: string;
  assignment: Assignment;
  /** Cases in grading order: exercise order, then public before hidden, then id. */
  cases: Case[];
  files: PackFiles;
  /** Content hash of every file: changes whenever the pack does. */
  hash: string;
}

/**
 * What the self-test learnt of the reference's CPU time (medians of BUDGET_RUNS runs, ms) and the CPU
 * budgets it sets (packs/budgets.ts). Stored with the pack version: a new version learns anew.
 */
export interface CaseBudgets {
  /** False with BUDGETS=off: the budgets below are the wall-clock limits, and gradings carry none. */
  enforced: boolean;
  factor: number;
  minMs: number;
  runs: number;
  referenceLoadMs: number;
  loadMs: number;
  /** Case id → the reference's median CPU ms on it. */
  referenceMs: Map<string, number>;
  /** Case id → its call's CPU budget (ms). */
  cases: Map<string, number>;
}

/** A pack ready to grade: parsed, self-tested, with the reference's values and its effective limits. */
export interface GradablePack {
  pack: Pack;
  /** Case id → the reference solution's value, for cases that expect {"reference": true}. */
  referenceValues: Map<string, unknown>;
  limits: Limits;
  /** CPU budgets learnt from the reference; without them, only the wall-clock limits apply. */
  budgets?: CaseBudgets;
}
