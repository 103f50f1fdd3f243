import type { Limits } from "../config.js";

/**
 * The pack's data types: what assignment.json and cases/*.json hold, and a parsed pack. A leaf
 * module (it imports no code), so that both the pack loader and the grading code can use them.
 */

/** A pack as data: its files by relative POSIX path, as UTF-8 text. */
export type PackFiles = Map<string, string>;

export type Scoring = "all-or-nothing" | "proportional";

export interface Exercise {
  name: string;
  title?: string;
  hiddenHint?: string;
  points: number;
  scoring: Scoring;
}

export interface MutantSpec {
  file: string;
  description: string;
  mustFail?: string[];
}

export interface Assignment {
  id: string;
  title: string;
  version: string;
  language: "javascript";
  description?: string;
  exercises: Exercise[];
  imports: Record<string, string>;
  reference: string;
  starter: string;
  mutants: MutantSpec[];
  limits?: Partial<Limits>;
  sandbox?: { keepGlobals?: string[] };
}

export type ValueType = "number" | "array" | "string" | "boolean" | "object" | "null";

export interface Expectation {
  type?: ValueType;
  shape?: number[];
  value?: unknown;
  anyOf?: unknown[];
  reference?: true;
  rtol?: number;
  atol?: number;
  lessThan?: number;
  greaterThan?: number;
  atMost?: number;
  atLeast?: number;
}

export interface Case {
  id: string;
  exercise: string;
  visibility: "public" | "hidden";
  description?: string;
  args: unknown[];
  expect: Expectation;
  messages?: { wrongType?: string; wrongValue?: string };
  /** The pack-relative file it came from. */
  file: string;
}

export interface Pack {
  id: string;
  assignment: Assignment;
  /** Cases in grading order: exercise order, then public before hidden, then id. */
  cases: Case[];
  files: PackFiles;
  /** Content hash of every file: changes whenever the pack does. */
  hash: string;
}
