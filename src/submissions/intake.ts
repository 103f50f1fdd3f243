import { createHash, randomUUID } from "node:crypto";
import type { Config } from "../config.js";
import { ApiError, apiError, errorCatalog, type ErrorCode } from "../errors.js";
import type { SubmissionRecord } from "../store/store.js";
import { callbackUrlProblem } from "../webhooks/callback-url.js";

/** RFC 7240: `Prefer: respond-async` (among other preferences, any case) asks for a 202 now and the result later. */
export function prefersAsync(prefer: string | string[] | undefined): boolean {
  const values = Array.isArray(prefer) ? prefer : prefer === undefined ? [] : [prefer];
  return values.some((value) => value.split(",").some((token) => token.split(";")[0]?.trim().toLowerCase() === "respond-async"));
}

/** Refuses a callbackUrl the service must not call (no secret to sign with, or a host not allowed). */
export function checkCallbackUrl(url: string | undefined, config: Pick<Config, "webhookSecret" | "callbackHosts">): void {
  if (url === undefined) return;
  if (config.webhookSecret === "") throw apiError("webhooks_disabled");
  const problem = callbackUrlProblem(url, config.callbackHosts);
  if (problem !== undefined) throw apiError("callback_not_allowed", problem);
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export function newSubmissionId(): string {
  return randomUUID();
}

/** When a client refused for a full queue inside a grading may retry (a TypeScript source takes at most seconds). */
export const BUSY_RETRY_AFTER_S = 2;

/** A failed record's error, as the API error a waiting sync client gets. */
export function recordError(record: SubmissionRecord): ApiError {
  const code = (record.error?.code ?? "internal_error") as ErrorCode;
  if (!(code in errorCatalog)) return apiError("internal_error", record.id);
  // A refusal for a full queue (the TypeScript threads') tells the client when to come back.
  const error = new ApiError(code, [], code === "queue_full" ? { headers: { "retry-after": String(BUSY_RETRY_AFTER_S) } } : {});
  // The stored message is already phrased; keep it rather than re-fill the template.
  Object.defineProperty(error, "message", { value: record.error?.message ?? error.message });
  return error;
}
