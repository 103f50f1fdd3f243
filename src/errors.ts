/**
 * Every error the API can answer, with a stable code and an HTTP status. Clients branch on `code`;
 * the message is for people. The one error handler in app.ts turns these (and fastify's own errors)
 * into `{ error: { code, message, details? } }`. A student's broken code is never one of these: it
 * is graded and answered with feedback.
 */
export const errorCatalog = {
  invalid_request: { status: 400, message: "The request is invalid: %s" },
  invalid_json: { status: 400, message: "The request body is not valid JSON: %s" },
  limit_too_high: { status: 400, message: "%s" },
  unknown_exercise: { status: 400, message: "Assignment '%s' has no exercise %s; its exercises are %s" },
  idempotency_key_mismatch: { status: 400, message: "The Idempotency-Key header '%s' and the body's submissionId '%s' differ; send one, or the same in both" },
  bad_url: { status: 400, message: "The URL is not valid: a percent-encoded part does not decode as UTF-8" },
  uri_too_long: { status: 414, message: "A part of the URL is longer than %s characters" },
  unsupported_media_type: { status: 415, message: "Send the body as application/json" },
  request_too_large: { status: 413, message: "The request body is larger than %s KiB" },
  source_too_large: { status: 413, message: "The submission source is %s KiB; the limit is %s KiB" },
  unauthorized: { status: 401, message: "Unauthorized: %s (send Authorization: Bearer <secret>)" },
  forbidden: { status: 403, message: "This key does not have the '%s' scope this route needs" },
  assignment_not_found: { status: 404, message: "No assignment has the id '%s'" },
  route_not_found: { status: 404, message: "No route %s %s" },
  submission_not_found: { status: 404, message: "No submission has the id '%s'" },
  regrade_not_found: { status: 404, message: "No regrade has the id '%s'" },
  webhooks_disabled: { status: 400, message: "This service sends no webhooks (WEBHOOK_SECRET is not set), so a callbackUrl cannot be accepted" },
  callback_not_allowed: { status: 400, message: "The callbackUrl is not allowed: %s" },
  method_not_allowed: { status: 405, message: "%s does not accept %s; it accepts %s" },
  idempotency_conflict: { status: 409, message: "Idempotency-Key '%s' was already used with a different request" },
  invalid_pack: { status: 422, message: "The pack is invalid: %s problem(s); see details" },
  rate_limited: { status: 429, message: "Too many requests: this client may make %s per minute; retry after %s s" },
  header_too_large: { status: 431, message: "The request's headers are larger than %s KiB" },
  queue_full: { status: 503, message: "All graders are busy and the queue is full; retry after %s s" },
  sandbox_unavailable: { status: 503, message: "The grading sandbox is unavailable: %s" },
  shutting_down: { status: 503, message: "The service is shutting down" },
  grading_failed: { status: 500, message: "The submission could not be graded: %s" },
  internal_error: { status: 500, message: "Internal error (reference %s)" },
} as const;

export type ErrorCode = keyof typeof errorCatalog;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, args: Array<string | number> = [], options: { details?: unknown; headers?: Record<string, string> } = {}) {
    const template: string = errorCatalog[code].message;
    let i = 0;
    super(template.replace(/%s/g, () => String(args[i++] ?? "")));
    this.name = "ApiError";
    this.code = code;
    this.statusCode = errorCatalog[code].status;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

export function apiError(code: ErrorCode, ...args: Array<string | number>): ApiError {
  return new ApiError(code, args);
}
