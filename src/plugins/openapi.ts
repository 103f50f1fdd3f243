import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { readFileSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../paths.js";

/**
 * The OpenAPI 3 document, built by @fastify/swagger from the routes' own schemas (the files in
 * submissions-schema/, the same ones that validate requests), served at /openapi.json, with
 * Swagger UI at /docs. The UI's files come from the installed package: nothing is fetched at run time.
 */

const { version } = JSON.parse(readFileSync(path.join(packageRoot, "package.json"), "utf8")) as { version: string };

/** "https://gradebox.dev/schemas/feedback.schema.json" → "Feedback" (the schema's title), for readable component names. */
function componentName(json: Record<string, unknown>, i: number): string {
  if (typeof json.title === "string" && /^[A-Za-z][A-Za-z0-9]*$/.test(json.title.replace(/\s+/g, ""))) return json.title.replace(/\s+/g, "");
  return `def-${i}`;
}

export default fp(async (fastify: FastifyInstance) => {
  await fastify.register(fastifySwagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "gradebox",
        version,
        description:
          "Autograder service: POST a student's ES module (JavaScript or TypeScript) and get structured feedback from public and hidden test cases. Errors are {error: {code, message, details?}} with stable codes.",
      },
      tags: [
        { name: "submissions", description: "Grade a submission" },
        { name: "assignments", description: "What can be graded, and what students may see of it" },
        { name: "health", description: "Liveness and readiness" },
      ],
      components: {
        securitySchemes: {
          adminToken: { type: "http", scheme: "bearer", description: "ADMIN_TOKEN or an API key with the admin scope, for installing packs" },
          apiKey: { type: "http", scheme: "bearer", description: "An API key's secret (gradebox-keys create): once any key exists, every /v1 route needs one, with the route's scope (submit, read, admin)" },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => componentName(json, i) },
  });
  await fastify.register(fastifySwaggerUi, { routePrefix: "/docs", staticCSP: true });
  fastify.get("/openapi.json", { schema: { hide: true } }, async () => fastify.swagger());
}, { name: "openapi" });
