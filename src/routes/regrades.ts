import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { hasScope } from "../auth/keys.js";
import type { Config } from "../config.js";
import { errorResponses } from "../error-responses.js";
import { ApiError, apiError } from "../errors.js";
import { PackError } from "../packs/problems.js";
import { poolErrorToApi } from "../plugins/sandbox.js";
import { regradeCsv, regradeSchema, regradeView } from "../regrades/views.js";
import { schemas } from "../schemas.js";
import type { RegradeScope } from "../store/store.js";

/** Regrades read and rewrite every student's results: an admin's act (the auth plugin checks it too). */
function requireAdmin(request: FastifyRequest): void {
  if (request.client === null) throw apiError("unauthorized", "this route needs an admin key");
  if (!hasScope(request.client, "admin")) throw apiError("forbidden", "admin");
}

const assignmentParam = { type: "object", required: ["id"], properties: { id: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,63}$" } } };
const regradeParam = { type: "object", required: ["id"], properties: { id: { type: "string", minLength: 1, maxLength: 64 } } };

interface RegradeBody {
  dryRun: boolean;
  scope?: RegradeScope;
  pack?: { files: Record<string, string> };
}

/** Issue #16: preview (dry run) and regrade an assignment's stored submissions; follow and cancel a regrade. */
const regrades: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  const find = async (id: string) => {
    const record = await fastify.store.getRegrade(id);
    if (record === undefined) throw apiError("regrade_not_found", id);
    return record;
  };
  const view = async (id: string) => {
    const record = await find(id);
    return { record, items: await fastify.store.regradeItems(id, { changedOnly: true }) };
  };

  fastify.post<{ Params: { id: string }; Body: RegradeBody }>("/v1/assignments/:id/regrades", {
    bodyLimit: config.packKiB * 1024,
    schema: {
      tags: ["regrades"],
      summary: "Preview (dryRun) or run a regrade of an assignment's stored submissions (instructors; needs ADMIN_TOKEN or an admin key)",
      description: "Grades the assignment's graded and rejected submissions again: the latest of each student (scope latest, the default; submissions without a student count one each) or all of them. With dryRun, against `pack` (a draft, validated and self-tested like a PUT but not installed) or the live pack, storing nothing about the submissions. Without dryRun, `pack` is installed first (as a PUT), each submission gets a new grading in its history, and those whose score moved send a signed submission.regraded webhook. Regrades use only workers no live submission wants. Answers 202 with the regrade; follow it at the Location.",
      security: [{ adminToken: [] }],
      params: assignmentParam,
      body: {
        type: "object",
        required: ["dryRun"],
        additionalProperties: false,
        properties: {
          dryRun: { type: "boolean" },
          scope: { enum: ["latest", "all"] },
          pack: { $ref: `${schemas.packUpload.$id}#` },
        },
      },
      response: { 202: regradeSchema, ...errorResponses(400, 401, 403, 404, 422, 503) },
    },
    onRequest: async (request) => requireAdmin(request),
  }, async (request, reply) => {
    const { dryRun, scope = "latest", pack } = request.body;
    try {
      const record = await fastify.regrades.create(request.params.id, { dryRun, scope, ...(pack !== undefined ? { pack: new Map(Object.entries(pack.files)) } : {}) });
      return reply.code(202).header("location", `/v1/regrades/${record.id}`).send(regradeView(record, []));
    } catch (error) {
      if (error instanceof PackError) throw new ApiError("invalid_pack", [error.problems.length], { details: { problems: error.problems } });
      throw poolErrorToApi(error);
    }
  });

  fastify.get<{ Params: { id: string }; Querystring: { format?: "json" | "csv" } }>("/v1/regrades/:id", {
    schema: {
      tags: ["regrades"],
      summary: "A regrade's progress and changes (instructors)",
      description: "{status, total, done, counts: {improved, worsened, unchanged, errored}, changes, perExercise, perCase}. ?format=csv: one row per changed submission (text/csv).",
      security: [{ adminToken: [] }],
      params: regradeParam,
      querystring: { type: "object", additionalProperties: false, properties: { format: { enum: ["json", "csv"] } } },
      response: { 200: regradeSchema, ...errorResponses(400, 401, 403, 404) },
    },
    onRequest: async (request) => requireAdmin(request),
  }, async (request, reply) => {
    const { record, items } = await view(request.params.id);
    if (request.query.format === "csv") {
      return reply.type("text/csv; charset=utf-8").header("content-disposition", `attachment; filename="regrade-${record.id}.csv"`).send(regradeCsv(items));
    }
    return regradeView(record, items);
  });

  fastify.delete<{ Params: { id: string } }>("/v1/regrades/:id", {
    schema: {
      tags: ["regrades"],
      summary: "Cancel a regrade (instructors): what is done stays, the rest is not graded",
      description: "Answers the regrade as it is now (status cancelled, or the status it had already finished with).",
      security: [{ adminToken: [] }],
      params: regradeParam,
      response: { 200: regradeSchema, ...errorResponses(401, 403, 404) },
    },
    onRequest: async (request) => requireAdmin(request),
  }, async (request) => {
    await find(request.params.id);
    await fastify.regrades.cancel(request.params.id);
    const { record, items } = await view(request.params.id);
    return regradeView(record, items);
  });
};

export default regrades;
