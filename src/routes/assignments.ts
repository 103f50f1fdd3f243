import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { hasScope } from "../auth/keys.js";
import type { Config } from "../config.js";
import { ApiError, apiError } from "../errors.js";
import { poolErrorToApi } from "../plugins/sandbox.js";
import { describeExpectation } from "../grading/compare.js";
import { describeOutputRule } from "../grading/output.js";
import type { GradablePack } from "../packs/types.js";
import { PackError } from "../packs/problems.js";
import { schemas } from "../schemas.js";
import { errorResponses } from "../error-responses.js";

/** What students and platforms may see of a pack: public cases in full, hidden ones only counted. */
/** What a submission must be, in the pack's own terms: its helpers' specifiers, not another pack's. */
export function moduleContract(specifiers: string[]): string {
  const exports = "One ECMAScript module that exports one function per exercise, named as the exercise.";
  if (specifiers.length === 0) return `${exports} It may not import anything.`;
  const example = specifiers.map((specifier) => `import … from ${JSON.stringify(specifier)}`).join(", ");
  return `${exports} It may import only the listed helpers, by their specifier (${example}).`;
}

export function summary(gradable: GradablePack) {
  const { pack, limits } = gradable;
  const { assignment } = pack;
  return {
    id: pack.id,
    title: assignment.title,
    ...(assignment.description !== undefined ? { description: assignment.description } : {}),
    version: assignment.version,
    assignmentVersion: pack.hash,
    language: assignment.language,
    imports: Object.keys(assignment.imports),
    contract: {
      module: moduleContract(Object.keys(assignment.imports)),
      languages: ["javascript", "typescript"],
      exports: assignment.exercises.map((e) => e.name),
      imports: Object.keys(assignment.imports).map((specifier) => ({ specifier, url: `/v1/assignments/${pack.id}/helpers/${encodeURIComponent(specifier)}` })),
      starter: `/v1/assignments/${pack.id}/starter`,
    },
    limits: { ...limits },
    exercises: assignment.exercises.map((exercise) => {
      const cases = pack.cases.filter((c) => c.exercise === exercise.name);
      return {
        name: exercise.name,
        ...(exercise.title !== undefined ? { title: exercise.title } : {}),
        points: exercise.points,
        scoring: exercise.scoring,
        hiddenCases: cases.filter((c) => c.visibility === "hidden").length,
        publicCases: cases.filter((c) => c.visibility === "public").map((c) => ({
          id: c.id,
          ...(c.description !== undefined ? { description: c.description } : {}),
          args: c.args,
          expected: describeExpectation(c.expect, gradable.referenceValues.get(c.id)),
          ...(c.omits !== undefined ? { omits: c.omits } : {}),
          ...(c.output !== undefined ? { printed: describeOutputRule(c.output) } : {}),
        })),
      };
    }),
  };
}

const idParam = { type: "object", required: ["id"], properties: { id: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,63}$" } } };

/** Installing packs is an admin's act (the auth plugin checks it too; this keeps the rule beside the route). */
function requireAdmin(request: FastifyRequest): void {
  if (request.client === null) throw apiError("unauthorized", "this route needs an admin key");
  if (!hasScope(request.client, "admin")) throw apiError("forbidden", "admin");
}

const assignments: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  const find = (id: string): GradablePack => {
    const gradable = fastify.packs.get(id);
    if (gradable === undefined) throw apiError("assignment_not_found", id);
    return gradable;
  };

  fastify.get("/v1/assignments", {
    schema: {
      tags: ["assignments"],
      summary: "List the assignments this service grades",
      response: { 200: { type: "object", required: ["assignments"], properties: { assignments: { type: "array", items: { $ref: `${schemas.assignmentSummary.$id}#` } } } } },
    },
  }, async () => ({ assignments: fastify.packs.list().map(summary) }));

  fastify.get<{ Params: { id: string } }>("/v1/assignments/:id", {
    schema: {
      tags: ["assignments"],
      summary: "What students may see of an assignment",
      description: "Its exercises and points, its public cases (arguments and expectations), how many hidden cases each exercise has (nothing else of them), the import contract and the effective limits.",
      params: idParam,
      response: { 200: { $ref: `${schemas.assignmentSummary.$id}#` }, ...errorResponses(404) },
    },
  }, async (request) => summary(find(request.params.id)));

  fastify.get<{ Params: { id: string } }>("/v1/assignments/:id/starter", {
    schema: { tags: ["assignments"], summary: "The starter code students begin from (text/javascript)", params: idParam },
  }, async (request, reply) => {
    const { pack } = find(request.params.id);
    return reply.type("text/javascript; charset=utf-8").send(pack.files.get(pack.assignment.starter));
  });

  fastify.get<{ Params: { id: string; specifier: string } }>("/v1/assignments/:id/helpers/:specifier", {
    schema: {
      tags: ["assignments"],
      summary: "The source of a helper module a submission may import (text/javascript)",
      params: { ...idParam, required: ["id", "specifier"], properties: { ...idParam.properties, specifier: { type: "string" } } },
    },
  }, async (request, reply) => {
    const { pack } = find(request.params.id);
    const file = pack.assignment.imports[request.params.specifier];
    if (file === undefined || !Object.hasOwn(pack.assignment.imports, request.params.specifier)) {
      throw new ApiError("route_not_found", ["GET", request.url]);
    }
    return reply.type("text/javascript; charset=utf-8").send(pack.files.get(file));
  });

  fastify.get<{ Params: { id: string } }>("/v1/assignments/:id/matrix", {
    schema: {
      tags: ["assignments"],
      summary: "Which cases catch which mutants, what each costs, and the budgets learnt from the reference (instructors; needs ADMIN_TOKEN or an admin key)",
      description: "From the self-test that made the current version live (computed once per version, no grading): the case × mutant table, each case's cost (the reference's median CPU ms) and CPU budget, redundant candidate cases and fragile mutants. It names hidden cases, so it is for instructors only.",
      security: [{ adminToken: [] }],
      params: idParam,
      response: { 200: { $ref: `${schemas.caseMatrix.$id}#` }, ...errorResponses(401, 403, 404) },
    },
    onRequest: async (request) => requireAdmin(request),
  }, async (request) => {
    const matrix = fastify.packs.matrix(request.params.id);
    if (matrix === undefined) throw apiError("assignment_not_found", request.params.id);
    return matrix;
  });

  // Installing packs is an instructor's act: it needs ADMIN_TOKEN or an admin key, even while the service is open.
  fastify.put<{ Params: { id: string }; Body: { files: Record<string, string> } }>("/v1/assignments/:id", {
    bodyLimit: config.packKiB * 1024,
    schema: {
      tags: ["assignments"],
      summary: "Install or replace a pack (instructors; needs ADMIN_TOKEN or an admin key)",
      description: "Validates the pack's files and runs its self-test (the reference passes every case, each mutant fails); 422 invalid_pack lists the problems. Answers 201 when new, 200 when replaced.",
      security: [{ adminToken: [] }],
      params: idParam,
      body: { $ref: `${schemas.packUpload.$id}#` },
    },
    // onRequest: refuse before reading a large body from someone without the token.
    onRequest: async (request) => requireAdmin(request),
  }, async (request, reply) => {
    const { id } = request.params;
    try {
      const { gradable, replaced, selfTest } = await fastify.packs.install(id, new Map(Object.entries(request.body.files)));
      return reply.code(replaced ? 200 : 201).send({ assignment: summary(gradable), replaced, selfTest });
    } catch (error) {
      if (error instanceof PackError) {
        throw new ApiError("invalid_pack", [error.problems.length], { details: { problems: error.problems } });
      }
      throw poolErrorToApi(error);
    }
  });
};

export default assignments;
