import type { FastifyPluginAsync } from "fastify";
import { canReadSubmission, type Client } from "../auth/keys.js";
import { apiError } from "../errors.js";
import { FORMATS, type ResultFormat } from "../formats/index.js";
import { InvalidCursorError, SUBMISSION_STATUSES, type SubmissionStatus } from "../store/store.js";
import { gradingView, recordView, summaryView } from "../submissions/views.js";
import { errorResponses } from "../error-responses.js";

/** The largest page of GET /v1/submissions. */
export const LIST_LIMIT_MAX = 200;
const LIST_LIMIT_DEFAULT = 50;

/** Whose submissions a client may list: every one while the service is open or for an admin, else its own. */
function ownerFilter(client: Client | null): string | undefined {
  return client === null || client.scopes.includes("admin") ? undefined : client.id;
}

/** Reading stored submissions: one by id, or summaries newest first. A client reads only its own. */
const submissionRecords: FastifyPluginAsync = async (fastify) => {
  fastify.get<{ Params: { id: string }; Querystring: { format?: ResultFormat } }>("/v1/submissions/:id", {
    schema: {
      tags: ["submissions"],
      summary: "A stored submission",
      description: "While it waits or runs: {id, status: queued | running, assignment, receivedAt}. Once graded or rejected: the feedback, in ?format= (default: the format it was submitted with). Once failed: {id, status: failed, error: {code, message}}. With a callbackUrl, gradebox's own shapes carry webhook: {state, attempts, lastStatus, nextAttemptAt}. A graded or rejected one in the native format carries gradings: [{version, score, maxScore, gradedAt, reason: submitted | regrade, regrade?}], oldest first; its feedback is the latest's.",
      params: { type: "object", properties: { id: { type: "string", minLength: 1, maxLength: 100 } }, required: ["id"] },
      querystring: { type: "object", properties: { format: { enum: [...FORMATS] } } },
      response: errorResponses(400, 404),
    },
  }, async (request, reply) => {
    const record = await fastify.store.get(request.params.id);
    // Another client's submission is answered like a missing one: its existence is not the reader's business.
    if (record === undefined || !canReadSubmission(request.client, record)) throw apiError("submission_not_found", request.params.id);
    const format = request.query.format ?? (record.format as ResultFormat);
    const body = recordView(record, format, fastify.packs.get(record.assignment)?.pack.assignment.exercises);
    // gradebox's own shape lists every grading (the first, then each regrade's); platform formats keep the platform's shape.
    const graded = record.status === "graded" || record.status === "rejected";
    const withHistory = graded && format === "native" ? { ...(body as object), gradings: (await fastify.store.gradings(record.id)).map(gradingView) } : body;
    return reply.type("application/json; charset=utf-8").send(JSON.stringify(withHistory));
  });

  fastify.get<{ Querystring: { assignment?: string; student?: string; status?: SubmissionStatus; limit?: string; cursor?: string } }>("/v1/submissions", {
    schema: {
      tags: ["submissions"],
      summary: "List stored submissions",
      description: `Summaries {id, assignment, student, status, score, maxScore, receivedAt}, newest first, filtered by assignment, student and status. At most limit (default ${LIST_LIMIT_DEFAULT}, at most ${LIST_LIMIT_MAX}) per page; nextCursor, when not null, is the cursor of the next page.`,
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: {
          assignment: { type: "string", minLength: 1, maxLength: 100 },
          student: { type: "string", minLength: 1, maxLength: 256 },
          status: { enum: [...SUBMISSION_STATUSES] },
          // A query string is text, and the service does not coerce types: a pattern, then Number().
          limit: { type: "string", pattern: "^[1-9][0-9]{0,2}$" },
          cursor: { type: "string", minLength: 1, maxLength: 100 },
        },
      },
      response: {
        200: {
          type: "object",
          properties: {
            items: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  id: { type: "string" },
                  assignment: { type: "string" },
                  student: { type: ["string", "null"] },
                  status: { type: "string" },
                  score: { type: ["number", "null"] },
                  maxScore: { type: ["number", "null"] },
                  receivedAt: { type: "string" },
                },
              },
            },
            nextCursor: { type: ["string", "null"] },
          },
        },
        ...errorResponses(400),
      },
    },
  }, async (request) => {
    const { assignment, student, status, cursor } = request.query;
    const limit = request.query.limit === undefined ? LIST_LIMIT_DEFAULT : Number(request.query.limit);
    const owner = ownerFilter(request.client);
    if (limit > LIST_LIMIT_MAX) throw apiError("invalid_request", `limit is ${limit}; at most ${LIST_LIMIT_MAX}`);
    try {
      const page = await fastify.store.list({
        limit,
        ...(assignment !== undefined ? { assignment } : {}),
        ...(student !== undefined ? { student } : {}),
        ...(status !== undefined ? { status } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
        ...(owner !== undefined ? { clientId: owner } : {}),
      });
      return { items: page.items.map(summaryView), nextCursor: page.nextCursor };
    } catch (error) {
      if (error instanceof InvalidCursorError) throw apiError("invalid_request", "cursor is not one this service handed out");
      throw error;
    }
  });
};

export default submissionRecords;
