import type { Scope } from "./keys.js";

/**
 * The scope each /v1 route needs, by method and route pattern, in one table, so a new route is
 * covered without repeating itself. "any": any valid key (reading what students may see). A /v1
 * route not listed needs `admin` unless it is a GET: unknown writes are closed by default.
 */
const routeScopes: Record<string, Scope | "any"> = {
  "POST /v1/submissions": "submit",
  "GET /v1/submissions": "read",
  "GET /v1/submissions/:id": "read",
  "PUT /v1/assignments/:id": "admin",
  // The instructor's reads (src/routes/instructor.ts, activity.ts): hidden cases, the pack's files, cohort figures.
  "GET /v1/assignments/:id/cases": "admin",
  "GET /v1/assignments/:id/pack": "admin",
  "GET /v1/assignments/:id/activity": "admin",
  "POST /v1/assignments/:id/trials": "admin",
  "GET /v1/submissions/:id/source": "read",
  // The matrix names hidden cases and what they catch: instructors only.
  "GET /v1/assignments/:id/matrix": "admin",
  // Regrades read every student's results and may rewrite them: instructors only, reads included.
  "POST /v1/assignments/:id/regrades": "admin",
  "GET /v1/regrades/:id": "admin",
  "DELETE /v1/regrades/:id": "admin",
};

export function isV1Path(url: string): boolean {
  return url === "/v1" || url.startsWith("/v1/") || url.startsWith("/v1?");
}

/** The scope a request needs: its route's, or for a path no route matched (a 404), just a valid key. */
export function requiredScope(method: string, routeUrl: string | undefined): Scope | "any" {
  if (routeUrl === undefined) return "any";
  const listed = routeScopes[`${method === "HEAD" ? "GET" : method} ${routeUrl}`];
  if (listed !== undefined) return listed;
  return method === "GET" || method === "HEAD" ? "any" : "admin";
}
