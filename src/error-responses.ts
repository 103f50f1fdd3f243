import { schemas } from "./schemas.js";

/** Error answers for a route's OpenAPI entry; every one has the shape of submissions-schema/api/error.schema.json. */
export function errorResponses(...statuses: number[]): Record<number, unknown> {
  return Object.fromEntries(statuses.map((status) => [status, { description: "Error", $ref: `${schemas.error.$id}#` }]));
}
