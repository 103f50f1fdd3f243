/**
 * What running student code can come to. A student's fault is a value here, never an exception:
 * the grading code turns each into a verdict and a message.
 */

/**
 * A returned value as the prelude encodes it: finite numbers, strings, booleans, null and arrays are
 * plain JSON; anything else is tagged, e.g. {"$":"number","v":"NaN"}, {"$":"object","v":{…}}.
 */
export type Snapshot = number | string | boolean | null | Snapshot[] | TaggedSnapshot;

export type TaggedSnapshot =
  | { $: "object"; v: Record<string, Snapshot> }
  | { $: "number"; v: "NaN" | "Infinity" | "-Infinity" }
  | { $: "bigint"; v: string }
  | { $: "boxed"; type: string; v: string }
  | { $: "instance"; class: string }
  | { $: "function"; name: string }
  | { $: "undefined" | "symbol" | "hole" | "accessor" | "cycle" };

export interface ThrownError {
  name: string;
  message: string;
  stack: string;
}

/** How one call of a graded function ended. */
export type CallOutcome =
  /** `args`: the arguments after the call, when the case checks them (never sent out of the worker for hidden cases). */
  | { kind: "value"; value: Snapshot; args?: Snapshot }
  | { kind: "threw"; during: "call" | "result" | "load"; error: ThrownError }
  | { kind: "missing"; type: string }
  | { kind: "unserializable"; reason: "too-large" | "too-deep" }
  | { kind: "never-settled" }
  | { kind: "timeout"; limitMs: number }
  | { kind: "memory"; limitMb: number }
  | { kind: "crashed"; detail: string }
  /** skipped: an earlier call of the same group timed out, and the group stops at its first timeout. */
  | { kind: "not-run"; reason: "sandbox-lost" | "budget" | "skipped" };

/** How loading the submission (compile, link, top-level code) ended. */
export type LoadOutcome =
  | { kind: "loaded" }
  | { kind: "syntax-error"; message: string; line?: number; column?: number }
  | { kind: "forbidden-import"; specifier: string; allowed: string[] }
  | { kind: "link-error"; message: string }
  | { kind: "threw"; error: ThrownError }
  | { kind: "never-settled" }
  | { kind: "timeout"; limitMs: number }
  | { kind: "memory"; limitMb: number }
  | { kind: "crashed"; detail: string }
  /** Made by the service before the sandbox (TypeScript that removing types cannot run); never by a worker. */
  | { kind: "unsupported-typescript"; message: string; line: number; column: number };

export interface CallResult {
  outcome: CallOutcome;
  /** Console output of this call, when the job asked to keep it. */
  output?: string;
}
