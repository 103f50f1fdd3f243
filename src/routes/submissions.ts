import type { FastifyPluginAsync } from "fastify";
import type { Config, Limits } from "../config.js";
import { apiError, poolErrorToApi } from "../errors.js";
import { FORMATS, render, type ResultFormat } from "../formats/index.js";
import type { Feedback, SubmissionLanguage } from "../grading/feedback.js";
import { grade } from "../grading/grade.js";
import { IdempotencyCache } from "../idempotency.js";
import { lowerLimits, raisedLimits } from "../limits.js";
import { schemas } from "../schemas.js";
import { errorResponses } from "./docs.js";

interface SubmissionBody {
  assignment: string;
  source: string;
  language?: SubmissionLanguage;
  exercises?: string[];
  submissionId?: string;
  limits?: Partial<Limits>;
  metadata?: unknown;
  format?: ResultFormat;
}

function statusCounts(feedback: Feedback): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const test of feedback.exercises.flatMap((e) => e.tests)) counts[test.status] = (counts[test.status] ?? 0) + 1;
  return counts;
}


/** The result format, from the query string or the body; both may be given only if they agree. */
function formatOf(query: ResultFormat | undefined, body: ResultFormat | undefined): ResultFormat {
  if (query !== undefined && body !== undefined && query !== body) {
    throw apiError("invalid_request", `format is "${query}" in the query string but "${body}" in the body; give it once, or the same in both`);
  }
  return query ?? body ?? "native";
}

const submissions: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  // The byte bound counts each feedback as its JSON text: what a replay sends, and close to what it holds.
  const cache = new IdempotencyCache<Feedback>(config.idempotencyEntries, config.idempotencyWindowS * 1000, Date.now, {
    maxBytes: config.idempotencyCacheMb * 1024 * 1024,
    sizeOf: (feedback) => JSON.stringify(feedback).length,
  });

  fastify.post<{ Body: SubmissionBody; Querystring: { format?: ResultFormat }; Headers: { "idempotency-key"?: string } }>("/v1/submissions", {
    bodyLimit: config.requestKiB * 1024,
    schema: {
      tags: ["submissions"],
      summary: "Grade a submission",
      description: "Runs the module in a fresh sandbox against the assignment's public and hidden cases and answers with feedback. A student's mistakes (syntax errors, exceptions, timeouts, wrong values) are feedback with status 200, never HTTP errors.",
      headers: { type: "object", properties: { "idempotency-key": { type: "string", minLength: 1, maxLength: 200 } } },
      body: { $ref: `${schemas.submissionRequest.$id}#` },
      querystring: {
        type: "object",
        properties: {
          format: { enum: [...FORMATS], description: "The shape of the answer: native (the feedback schema, the default), gradescope (results.json), prairielearn (external grader results), xqueue ({correct, score, msg}) or coursera ({fractionalScore, feedback}). The body's format field does the same; if both are given they must agree." },
        },
      },
      response: { 200: { $ref: `${schemas.feedback.$id}#` }, ...errorResponses(400, 404, 409, 413, 415, 503) },
    },
  }, async (request, reply) => {
    const { assignment, source, limits: requested, language = "javascript", exercises, submissionId, metadata } = request.body;
    const bytes = Buffer.byteLength(source, "utf8");
    if (bytes > config.sourceKiB * 1024) throw apiError("source_too_large", (bytes / 1024).toFixed(1), config.sourceKiB);
    const gradable = fastify.graders.get(assignment);
    if (gradable === undefined) throw apiError("assignment_not_found", assignment);
    const raised = raisedLimits(gradable.limits, requested);
    if (raised.length > 0) {
      throw apiError("limit_too_high", raised.map((r) => `limits.${r.name} is ${r.requested}, above this assignment's ${r.ceiling}: a request may lower a limit, not raise it`).join("; "));
    }
    const limits = lowerLimits(gradable.limits, requested);
    const names = gradable.pack.assignment.exercises.map((e) => e.name);
    // Once each: the list is the client's, and grading checks every case against it.
    const chosen = exercises === undefined ? undefined : [...new Set(exercises)];
    const known = new Set(names);
    const unknown = (chosen ?? []).filter((name) => !known.has(name));
    if (unknown.length > 0) throw apiError("unknown_exercise", assignment, unknown.map((n) => `'${n}'`).join(", "), names.join(", "));
    // The cache below holds native feedback and the format is not part of the request's hash, so a
    // replay may ask for another format. Other formats skip the native response schema (their own
    // schemas, submissions-schema/formats/, are checked by the tests).
    const format = formatOf(request.query.format, request.body.format);
    const respond = (feedback: Feedback) => (format === "native" ? feedback : reply.type("application/json; charset=utf-8").send(JSON.stringify(render(format, feedback))));

    const run = async (): Promise<Feedback> => {
      try {
        const { feedback, report } = await grade(gradable, source, limits, { pool: fastify.sandbox, typescript: fastify.typescript, resultMaxDepth: config.resultMaxDepth }, {
          language,
          text: source,
          ...(chosen !== undefined ? { exercises: chosen } : {}),
        });
        request.log.info({
          submission: feedback.id,
          assignment: feedback.assignment,
          assignmentVersion: feedback.assignmentVersion,
          language: feedback.language,
          exercises: chosen,
          status: feedback.status,
          rejection: feedback.reason?.code,
          score: feedback.score,
          maxScore: feedback.maxScore,
          tests: statusCounts(feedback),
          durationMs: feedback.durationMs,
          workerId: report.workerId,
          workerDeath: report.workerDeath,
        }, "graded");
        return feedback;
      } catch (error) {
        throw poolErrorToApi(error);
      }
    };

    const header = request.headers["idempotency-key"];
    if (header !== undefined && submissionId !== undefined && header !== submissionId) throw apiError("idempotency_key_mismatch", header, submissionId);
    const key = header ?? submissionId;
    if (key === undefined) return respond(await run());
    // Everything that changes the grading is part of the request's identity.
    const identity = { assignment, source, language, exercises: exercises ?? null, limits: requested ?? null, metadata: metadata ?? null };
    const outcome = cache.run(key, IdempotencyCache.hash(identity), run);
    if ("conflict" in outcome) throw apiError("idempotency_conflict", key);
    if (outcome.replayed) void reply.header("idempotent-replayed", "true");
    return respond(await outcome.result);
  });
};

export default submissions;
