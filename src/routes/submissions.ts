import type { FastifyPluginAsync } from "fastify";
import type { Config, Limits } from "../config.js";
import { apiError, poolErrorToApi } from "../errors.js";
import { FORMATS, render, type ResultFormat } from "../formats/index.js";
import type { Feedback } from "../grading/feedback.js";
import { grade } from "../grading/grade.js";
import { IdempotencyCache } from "../idempotency.js";
import { lowerLimits, raisedLimits } from "../limits.js";
import { schemas } from "../schemas.js";

interface SubmissionBody {
  assignment: string;
  source: string;
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
  const cache = new IdempotencyCache<Feedback>(config.idempotencyEntries);

  fastify.post<{ Body: SubmissionBody; Querystring: { format?: ResultFormat }; Headers: { "idempotency-key"?: string } }>("/v1/submissions", {
    bodyLimit: config.requestKiB * 1024,
    schema: {
      headers: { type: "object", properties: { "idempotency-key": { type: "string", minLength: 1, maxLength: 200 } } },
      body: { $ref: `${schemas.submissionRequest.$id}#` },
      querystring: { type: "object", properties: { format: { enum: [...FORMATS] } } },
      response: { 200: { $ref: `${schemas.feedback.$id}#` } },
    },
  }, async (request, reply) => {
    const { assignment, source, limits: requested } = request.body;
    const bytes = Buffer.byteLength(source, "utf8");
    if (bytes > config.sourceKiB * 1024) throw apiError("source_too_large", (bytes / 1024).toFixed(1), config.sourceKiB);
    const gradable = fastify.graders.get(assignment);
    if (gradable === undefined) throw apiError("assignment_not_found", assignment);
    const raised = raisedLimits(gradable.limits, requested);
    if (raised.length > 0) {
      throw apiError("limit_too_high", raised.map((r) => `limits.${r.name} is ${r.requested}, above this assignment's ${r.ceiling}: a request may lower a limit, not raise it`).join("; "));
    }
    const limits = lowerLimits(gradable.limits, requested);
    // The cache below holds native feedback and the format is not part of the request's hash, so a
    // replay may ask for another format. Other formats skip the native response schema (their own
    // schemas, submissions-schema/formats/, are checked by the tests).
    const format = formatOf(request.query.format, request.body.format);
    const respond = (feedback: Feedback) => (format === "native" ? feedback : reply.type("application/json; charset=utf-8").send(JSON.stringify(render(format, feedback))));

    const run = async (): Promise<Feedback> => {
      try {
        const { feedback, report } = await grade(gradable, source, limits, { pool: fastify.sandbox, resultMaxDepth: config.resultMaxDepth });
        request.log.info({
          submission: feedback.id,
          assignment: feedback.assignment,
          assignmentVersion: feedback.assignmentVersion,
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

    const key = request.headers["idempotency-key"];
    if (key === undefined) return respond(await run());
    const outcome = cache.run(key, IdempotencyCache.hash({ assignment, source, limits: requested ?? null }), run);
    if ("conflict" in outcome) throw apiError("idempotency_conflict", key);
    if (outcome.replayed) void reply.header("idempotent-replayed", "true");
    return respond(await outcome.result);
  });
};

export default submissions;
