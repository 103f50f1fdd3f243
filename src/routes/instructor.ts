import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { hasScope } from "../auth/keys.js";
import type { Config } from "../config.js";
import { apiError } from "../errors.js";
import { errorResponses } from "../error-responses.js";
import { describeExpectation } from "../grading/compare.js";
import type { Feedback } from "../grading/feedback.js";
import { grade } from "../grading/grade.js";
import { hiddenTestId } from "../grading/verdicts.js";
import { poolErrorToApi } from "../plugins/sandbox.js";
import type { GradablePack } from "../packs/types.js";
import { schemas } from "../schemas.js";

/**
 * What an instructor reads and tries that students never may (issue #20's console uses these, like any
 * other admin client): every case with its inputs, the pack's files as a PUT body (to edit a draft),
 * and a trial grading that is not stored. Each needs ADMIN_TOKEN or an admin key (src/auth/scopes.ts),
 * even while the service is open; the routes check it again beside themselves.
 */

const idParam = { type: "object", required: ["id"], properties: { id: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,63}$" } } };

function requireAdmin(request: FastifyRequest): void {
  if (request.client === null) throw apiError("unauthorized", "this route needs an admin key");
  if (!hasScope(request.client, "admin")) throw apiError("forbidden", "admin");
}

/** Every case of a pack, hidden ones with their inputs, each with the id students see it by. */
export function staffCases(gradable: GradablePack) {
  const { pack } = gradable;
  const ranks = new Map<string, number>();
  for (const exercise of pack.assignment.exercises) {
    pack.cases.filter((c) => c.exercise === exercise.name && c.visibility === "hidden").forEach((c, i) => ranks.set(c.id, i + 1));
  }
  return pack.cases.map((c) => ({
    id: c.id,
    exercise: c.exercise,
    visibility: c.visibility,
    // A hidden test appears in feedback as "<exercise>-hidden-<n>", never by its case id.
    testId: c.visibility === "hidden" ? hiddenTestId(c.exercise, ranks.get(c.id) ?? 0) : c.id,
    file: c.file,
    ...(c.description !== undefined ? { description: c.description } : {}),
    args: c.args,
    expected: describeExpectation(c.expect, gradable.referenceValues.get(c.id)),
    ...(c.omits !== undefined ? { omits: c.omits } : {}),
  }));
}

/** A live pack always passed its self-test: a pack that does not prove itself never goes live. */
export function selfTestState(gradable: GradablePack) {
  return { state: "passed" as const, cases: gradable.pack.cases.length, mutants: gradable.pack.assignment.mutants.length };
}

interface TrialBody {
  source: string;
  language?: Feedback["language"];
  exercises?: string[];
}

const instructor: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  const find = (id: string): GradablePack => {
    const gradable = fastify.packs.get(id);
    if (gradable === undefined) throw apiError("assignment_not_found", id);
    return gradable;
  };

  fastify.get<{ Params: { id: string } }>("/v1/assignments/:id/cases", {
    schema: {
      tags: ["instructors"],
      summary: "Every case of an assignment, hidden ones with their inputs (admin)",
      description: "For instructors only: each case's id, exercise, visibility, the test id students see it by (a hidden case is `<exercise>-hidden-<n>`), its file, description, arguments and expectation; and the pack's self-test state (a live pack passed it).",
      security: [{ adminToken: [] }],
      params: idParam,
      response: errorResponses(401, 403, 404),
    },
    onRequest: async (request) => requireAdmin(request),
  }, async (request) => {
    const gradable = find(request.params.id);
    return { assignment: gradable.pack.id, assignmentVersion: gradable.pack.hash, selfTest: selfTestState(gradable), cases: staffCases(gradable) };
  });

  fastify.get<{ Params: { id: string } }>("/v1/assignments/:id/pack", {
    schema: {
      tags: ["instructors"],
      summary: "The pack's files, as the body PUT /v1/assignments/:id takes (admin)",
      description: "`{files: {path: text}}`: edit it into a draft for a regrade preview, or PUT it back.",
      security: [{ adminToken: [] }],
      params: idParam,
      response: errorResponses(401, 403, 404),
    },
    onRequest: async (request) => requireAdmin(request),
  }, async (request) => {
    const { pack } = find(request.params.id);
    return { files: Object.fromEntries([...pack.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
  });

  fastify.post<{ Params: { id: string }; Body: TrialBody }>("/v1/assignments/:id/trials", {
    bodyLimit: config.requestKiB * 1024,
    schema: {
      tags: ["instructors"],
      summary: "Grade a source without storing it (admin)",
      description: "The console's \"Try it\": the same grading as POST /v1/submissions, with the assignment's limits, answered as native feedback. Nothing is stored (no submission, no webhook, no idempotency); the grading goes to the workers like a pack's self-test.",
      security: [{ adminToken: [] }],
      params: idParam,
      body: {
        type: "object",
        required: ["source"],
        additionalProperties: false,
        properties: {
          source: { type: "string" },
          language: { enum: ["javascript", "typescript"] },
          exercises: { type: "array", items: { type: "string", minLength: 1, maxLength: 100 }, minItems: 1, maxItems: 100 },
        },
      },
      response: { 200: { $ref: `${schemas.feedback.$id}#` }, ...errorResponses(400, 401, 403, 404, 413, 503) },
    },
    onRequest: async (request) => requireAdmin(request),
  }, async (request) => {
    const { source, language = "javascript", exercises } = request.body;
    const bytes = Buffer.byteLength(source, "utf8");
    if (bytes > config.sourceKiB * 1024) throw apiError("source_too_large", (bytes / 1024).toFixed(1), config.sourceKiB);
    const gradable = find(request.params.id);
    const names = gradable.pack.assignment.exercises.map((e) => e.name);
    const chosen = exercises === undefined ? undefined : [...new Set(exercises)];
    const unknown = (chosen ?? []).filter((name) => !names.includes(name));
    if (unknown.length > 0) throw apiError("unknown_exercise", gradable.pack.id, unknown.map((n) => `'${n}'`).join(", "), names.join(", "));
    try {
      const { feedback } = await grade(gradable, source, gradable.limits, { pool: fastify.sandbox, resultMaxDepth: config.resultMaxDepth, typescript: fastify.typescript }, {
        language,
        text: source,
        ...(chosen !== undefined ? { exercises: chosen } : {}),
      });
      return feedback;
    } catch (error) {
      throw poolErrorToApi(error);
    }
  });
};

export default instructor;
