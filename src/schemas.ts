import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import {
  assignmentSchema,
  assignmentSummarySchema,
  caseMatrixSchema,
  caseSchema,
  errorSchema,
  feedbackSchema,
  packUploadSchema,
  submissionRequestSchema,
} from "./generated/schemas.js";

/**
 * The JSON Schemas in submissions-schema/ are the single source of truth: they document the API and
 * the pack format, fastify validates requests and serialises responses with them, the pack loader
 * validates files with them, and the TypeScript types are derived from them (packs/types.ts,
 * grading/feedback.ts). They arrive here through src/generated/schemas.ts, which the build writes
 * from the .json files (scripts/schema-modules.mjs).
 */

type Schema = { $id: string } & Record<string, unknown>;

export const schemas = {
  case: caseSchema as Schema,
  assignment: assignmentSchema as Schema,
  submissionRequest: submissionRequestSchema as Schema,
  feedback: feedbackSchema as Schema,
  error: errorSchema as Schema,
  packUpload: packUploadSchema as Schema,
  assignmentSummary: assignmentSummarySchema as Schema,
  caseMatrix: caseMatrixSchema as Schema,
};

const ajv = new Ajv({ allErrors: true, strict: false });
for (const schema of Object.values(schemas)) ajv.addSchema(schema);

export function validator(schema: { $id: string }): ValidateFunction {
  return ajv.getSchema(schema.$id) as ValidateFunction;
}

/** ajv's error, phrased for people: "/expect/rtol must be >= 0". */
export function describeSchemaError(error: ErrorObject): { path: string; message: string } {
  let message = error.message ?? "is invalid";
  if (error.keyword === "additionalProperties") message = `has an unknown property '${String((error.params as { additionalProperty: string }).additionalProperty)}'`;
  if (error.keyword === "enum") message = `must be one of ${((error.params as { allowedValues: unknown[] }).allowedValues).map((v) => JSON.stringify(v)).join(", ")}`;
  if (error.keyword === "const") message = `must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
  return { path: error.instancePath, message };
}

/** Keeps one error per path and keyword family, so a oneOf does not bury the real problem. */
export function schemaErrors(errors: ErrorObject[] | null | undefined): Array<{ path: string; message: string }> {
  const seen = new Set<string>();
  const out: Array<{ path: string; message: string }> = [];
  for (const error of errors ?? []) {
    if (error.keyword === "if" || error.keyword === "oneOf" || error.keyword === "anyOf") continue;
    const described = describeSchemaError(error);
    const key = `${described.path} ${described.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(described);
  }
  return out;
}
