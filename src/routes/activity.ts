import type { FastifyPluginAsync } from "fastify";
import { hasScope } from "../auth/keys.js";
import { apiError } from "../errors.js";
import { errorResponses } from "../error-responses.js";
import { ACTIVITY_DAYS, assignmentActivity, SCORE_BUCKETS } from "../submissions/activity.js";

/** GET /v1/assignments/:id/activity: the cohort's figures for instructors (src/submissions/activity.ts). */
const activity: FastifyPluginAsync = async (fastify) => {
  fastify.get<{ Params: { id: string } }>("/v1/assignments/:id/activity", {
    schema: {
      tags: ["instructors"],
      summary: "Submissions over time, the score histogram and the most failed tests of an assignment (admin)",
      description: `Submissions in total, in the last 24 hours and 7 days; per UTC day over the last ${ACTIVITY_DAYS} days; the latest graded submission per student (one without a student counts alone) in ${SCORE_BUCKETS} buckets of the score's percentage (a full score is in the last); and the tests those submissions did not pass, most often first.`,
      security: [{ adminToken: [] }],
      params: { type: "object", required: ["id"], properties: { id: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,63}$" } } },
      response: errorResponses(401, 403, 404),
    },
    onRequest: async (request) => {
      if (request.client === null) throw apiError("unauthorized", "this route needs an admin key");
      if (!hasScope(request.client, "admin")) throw apiError("forbidden", "admin");
    },
  }, async (request) => {
    // Submissions of a pack that is no longer installed still have figures; an id never seen is a 404.
    if (fastify.packs.get(request.params.id) === undefined) throw apiError("assignment_not_found", request.params.id);
    return assignmentActivity(fastify.store, request.params.id, Date.now());
  });
};

export default activity;
