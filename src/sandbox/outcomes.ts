import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { WORKER_TEXT_BOUNDS } from "./constants.js";

/**
 * What running student code can come to. A student's fault is a value here, never an exception:
 * the grading code turns each into a verdict and a message. Each shape is written once, as the JSON
 * Schema the service checks a worker's messages against (TypeBox); the TypeScript types are derived
 * from them, so a kind cannot be added to one and forgotten in the other.
 */

const text = (maxLength: number) => Type.String({ maxLength });
const variant = <K extends string, P extends Record<string, TSchema>>(kind: K, properties: P) =>
  Type.Object({ kind: Type.Literal(kind), ...properties });

/**
 * A returned value as the prelude encodes it: finite numbers, strings, booleans, null and arrays are
 * plain JSON; anything else is tagged, e.g. {"$":"number","v":"NaN"}, {"$":"object","v":{…}}.
 */
export const snapshotSchema = Type.Recursive((snapshot) => Type.Union([
  Type.Number(),
  Type.String(),
  Type.Boolean(),
  Type.Null(),
  Type.Array(snapshot),
  Type.Object({ $: Type.Literal("object"), v: Type.Record(Type.String(), snapshot) }),
  Type.Object({ $: Type.Literal("number"), v: Type.Union([Type.Literal("NaN"), Type.Literal("Infinity"), Type.Literal("-Infinity")]) }),
  Type.Object({ $: Type.Literal("bigint"), v: Type.String() }),
  Type.Object({ $: Type.Literal("boxed"), type: Type.String(), v: Type.String() }),
  Type.Object({ $: Type.Literal("instance"), class: Type.String() }),
  Type.Object({ $: Type.Literal("function"), name: Type.String() }),
  Type.Object({ $: Type.Union([Type.Literal("undefined"), Type.Literal("symbol"), Type.Literal("hole"), Type.Literal("accessor"), Type.Literal("cycle")]) }),
]), { $id: "Snapshot" });

export type Snapshot = Static<typeof snapshotSchema>;
export type TaggedSnapshot = Extract<Snapshot, { $: string }>;

export const thrownErrorSchema = Type.Object({
  name: text(WORKER_TEXT_BOUNDS.errorName),
  message: text(WORKER_TEXT_BOUNDS.text),
  stack: text(WORKER_TEXT_BOUNDS.text),
});

export type ThrownError = Static<typeof thrownErrorSchema>;

const timeout = variant("timeout", { limitMs: Type.Number() });
const memory = variant("memory", { limitMb: Type.Number() });
const neverSettled = variant("never-settled", {});
const crashed = variant("crashed", { detail: text(WORKER_TEXT_BOUNDS.text) });

/** How one call of a graded function ended. */
export const callOutcomeSchema = Type.Union([
  /**
   * `args`: the arguments after the call, when the case checks them (never sent out of the worker for
   * hidden cases). A reference to the snapshot schema by its $id: the schema itself may appear once.
   */
  variant("value", { value: snapshotSchema, args: Type.Optional(Type.Unsafe<Snapshot>(Type.Ref("Snapshot"))) }),
  variant("threw", { during: Type.Union([Type.Literal("call"), Type.Literal("result"), Type.Literal("load")]), error: thrownErrorSchema }),
  variant("missing", { type: Type.String() }),
  variant("unserializable", { reason: Type.Union([Type.Literal("too-large"), Type.Literal("too-deep")]) }),
  neverSettled,
  timeout,
  memory,
  crashed,
  /** skipped: an earlier call of the same group timed out, and the group stops at its first timeout. */
  variant("not-run", { reason: Type.Union([Type.Literal("sandbox-lost"), Type.Literal("budget"), Type.Literal("skipped")]) }),
]);

export type CallOutcome = Static<typeof callOutcomeSchema>;

/** How loading the submission (compile, link, top-level code) ended, as a worker reports it. */
export const workerLoadOutcomeSchema = Type.Union([
  variant("loaded", {}),
  variant("syntax-error", { message: text(WORKER_TEXT_BOUNDS.text), line: Type.Optional(Type.Integer()), column: Type.Optional(Type.Integer()) }),
  variant("forbidden-import", { specifier: text(WORKER_TEXT_BOUNDS.text), allowed: Type.Array(Type.String()) }),
  variant("link-error", { message: text(WORKER_TEXT_BOUNDS.text) }),
  variant("threw", { error: thrownErrorSchema }),
  neverSettled,
  timeout,
  memory,
  crashed,
]);

/** Made by the service before the sandbox (TypeScript that removing types cannot run); never by a worker. */
const unsupportedTypeScript = variant("unsupported-typescript", { message: Type.String(), line: Type.Integer(), column: Type.Integer() });

export type WorkerLoadOutcome = Static<typeof workerLoadOutcomeSchema>;
export type LoadOutcome = WorkerLoadOutcome | Static<typeof unsupportedTypeScript>;
