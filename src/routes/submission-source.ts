import type { FastifyPluginAsync } from "fastify";
import { canReadSubmission } from "../auth/keys.js";
import { apiError } from "../errors.js";
import { errorResponses } from "../error-responses.js";

/**
 * GET /v1/submissions/:id/source: what was submitted, for whoever may read the submission (its
 * client, or an admin). The console shows it beside the feedback, with the error lines marked.
 */
const submissionSource: FastifyPluginAsync = async (fastify) => {
  fastify.get<{ Params: { id: string } }>("/v1/submissions/:id/source", {
    schema: {
      tags: ["submissions"],
      summary: "A stored submission's source",
      description: "`{id, language, source, sourceSha256, sourceBlanked}`; once SOURCE_RETENTION_DAYS blanked it, `source` is empty and `sourceBlanked` true.",
      params: { type: "object", properties: { id: { type: "string", minLength: 1, maxLength: 100 } }, required: ["id"] },
      response: errorResponses(401, 403, 404),
    },
  }, async (request) => {
    const record = await fastify.store.get(request.params.id);
    if (record === undefined || !canReadSubmission(request.client, record)) throw apiError("submission_not_found", request.params.id);
    return { id: record.id, language: record.language, source: record.source, sourceSha256: record.sourceSha256, sourceBlanked: record.sourceBlanked };
  });
};

export default submissionSource;
