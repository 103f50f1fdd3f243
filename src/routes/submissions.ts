import type { FastifyPluginAsync } from "fastify";
import type { Config, Limits } from "../config.js";
import { apiError } from "../errors.js";
import { FORMATS, render, withHiddenHints, type ResultFormat } from "../formats/index.js";
import type { Feedback, SubmissionLanguage } from "../grading/feedback.js";
import { canonicalHash } from "../canonical.js";
import { raisedLimits } from "../limits.js";
import { schemas } from "../schemas.js";
import { checkCallbackUrl, newSubmissionId, prefersAsync, recordError, sha256 } from "../submissions/intake.js";
import { pendingView } from "../submissions/views.js";
import { errorResponses } from "../error-responses.js";

interface SubmissionBody {
  assignment: string;
  source: string;
  language?: SubmissionLanguage;
  exercises?: string[];
  submissionId?: string;
  limits?: Partial<Limits>;
  metadata?: unknown;
  format?: ResultFormat;
  student?: string;
  callbackUrl?: string;
}


/** The result format, from the query string or the body; both may be given only if they agree. */
function formatOf(query: ResultFormat | undefined, body: ResultFormat | undefined): ResultFormat {
  if (query !== undefined && body !== undefined && query !== body) {
    throw apiError("invalid_request", `format is "${query}" in the query string but "${body}" in the body; give it once, or the same in both`);
  }
  return query ?? body ?? "native";
}

const submissions: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  fastify.post<{ Body: SubmissionBody; Querystring: { format?: ResultFormat }; Headers: { "idempotency-key"?: string; prefer?: string } }>("/v1/submissions", {
    bodyLimit: config.requestKiB * 1024,
    schema: {
      tags: ["submissions"],
      summary: "Grade a submission",
      description: "Runs the module in a fresh sandbox against the assignment's public and hidden cases and answers with feedback. A student's mistakes (syntax errors, exceptions, timeouts, wrong values) are feedback with status 200, never HTTP errors. Every submission is stored (GET /v1/submissions/:id). With `Prefer: respond-async` the answer is 202 at once, and the result is read later or sent to callbackUrl.",
      headers: {
        type: "object",
        properties: {
          "idempotency-key": { type: "string", minLength: 1, maxLength: 200 },
          prefer: { type: "string", maxLength: 200, description: "`respond-async` (RFC 7240): answer 202 at once; the grading is queued in the store." },
        },
      },
      body: { $ref: `${schemas.submissionRequest.$id}#` },
      querystring: {
        type: "object",
        properties: {
          format: { enum: [...FORMATS], description: "The shape of the answer: native (the feedback schema, the default), gradescope (results.json), prairielearn (external grader results), xqueue ({correct, score, msg}) or coursera ({fractionalScore, feedback}). The body's format field does the same; if both are given they must agree." },
        },
      },
      response: {
        200: { $ref: `${schemas.feedback.$id}#` },
        202: {
          description: "Accepted: queued in the store; GET the Location for the result.",
          type: "object",
          properties: { id: { type: "string" }, status: { type: "string" }, assignment: { type: "string" }, receivedAt: { type: "string" } },
        },
        ...errorResponses(400, 404, 409, 413, 415, 503),
      },
    },
  }, async (request, reply) => {
    const { assignment, source, limits: requested, language = "javascript", exercises, submissionId, metadata, student, callbackUrl } = request.body;
    const bytes = Buffer.byteLength(source, "utf8");
    if (bytes > config.sourceKiB * 1024) throw apiError("source_too_large", (bytes / 1024).toFixed(1), config.sourceKiB);
    const gradable = fastify.packs.get(assignment);
    if (gradable === undefined) throw apiError("assignment_not_found", assignment);
    const raised = raisedLimits(gradable.limits, requested);
    if (raised.length > 0) {
      throw apiError("limit_too_high", raised.map((r) => `limits.${r.name} is ${r.requested}, above this assignment's ${r.ceiling}: a request may lower a limit, not raise it`).join("; "));
    }
    const names = gradable.pack.assignment.exercises.map((e) => e.name);
    // Once each: the list is the client's, and grading checks every case against it.
    const chosen = exercises === undefined ? undefined : [...new Set(exercises)];
    const known = new Set(names);
    const unknown = (chosen ?? []).filter((name) => !known.has(name));
    if (unknown.length > 0) throw apiError("unknown_exercise", assignment, unknown.map((n) => `'${n}'`).join(", "), names.join(", "));
    // The store holds native feedback and the format is not part of the request's hash, so a
    // replay may ask for another format. Other formats skip the native response schema (their own
    // schemas, submissions-schema/formats/, are checked by the tests).
    const format = formatOf(request.query.format, request.body.format);
    const respond = (feedback: Feedback) => (format === "native" ? feedback : reply.type("application/json; charset=utf-8").send(JSON.stringify(render(format, withHiddenHints(feedback, gradable.pack.assignment.exercises)))));
    checkCallbackUrl(callbackUrl, config);

    const header = request.headers["idempotency-key"];
    if (header !== undefined && submissionId !== undefined && header !== submissionId) throw apiError("idempotency_key_mismatch", header, submissionId);
    const key = header ?? submissionId;
    const async = prefersAsync(request.headers.prefer);
    if (async) await fastify.grading.admitAsync();
    else fastify.grading.admitSync();
    // Everything that changes the grading is part of the request's identity.
    const identity = {
      assignment, source, language, exercises: exercises ?? null, limits: requested ?? null, metadata: metadata ?? null,
      ...(student !== undefined ? { student } : {}),
      ...(callbackUrl !== undefined ? { callbackUrl } : {}),
    };
    const created = await fastify.store.create({
      id: newSubmissionId(),
      assignment,
      assignmentVersion: gradable.pack.hash,
      language,
      exercises: chosen ?? null,
      format,
      source,
      sourceSha256: sha256(source),
      student: student ?? null,
      metadata: metadata ?? null,
      limits: (requested as Record<string, number> | undefined) ?? null,
      // Keys are per client: two platforms that happen to pick the same key never meet.
      idempotencyKey: key === undefined ? null : request.client === null ? key : `${request.client.id}:${key}`,
      requestHash: key === undefined ? null : canonicalHash(identity),
      clientId: request.client?.id ?? null,
      callbackUrl: callbackUrl ?? null,
      mode: async ? "async" : "sync",
      receivedAt: Date.now(),
    }, config.idempotencyWindowS * 1000);
    if (created.kind === "conflict") throw apiError("idempotency_conflict", key ?? "");
    if (created.kind === "replayed") void reply.header("idempotent-replayed", "true");
    const id = created.record.id;

    if (async) {
      if (created.kind === "created") fastify.grading.enqueued();
      return reply.code(202).header("location", `/v1/submissions/${id}`).header("preference-applied", "respond-async").send(pendingView(created.record));
    }
    // Graded to the end and stored even if the client goes away meanwhile.
    const record = created.kind === "created" ? await fastify.grading.gradeNow(id) : await fastify.grading.finished(id);
    if (record === undefined) throw apiError("internal_error", id);
    if (record.feedback === null) throw recordError(record);
    return respond(record.feedback);
  });
};

export default submissions;
