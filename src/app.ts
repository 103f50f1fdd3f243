import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyServerOptions } from "fastify";
import type { Config } from "./config.js";
import { ApiError, apiError, errorCatalog } from "./errors.js";
import { frameworkErrors, MAX_PARAM_LENGTH } from "./framework-errors.js";
import { loggerOptions } from "./logger.js";
import gradersPlugin from "./plugins/graders.js";
import openapiPlugin from "./plugins/openapi.js";
import sandboxPlugin from "./plugins/sandbox.js";
import typescriptPlugin from "./plugins/typescript.js";
import assignmentRoutes from "./routes/assignments.js";
import healthRoutes from "./routes/health.js";
import submissionRoutes from "./routes/submissions.js";
import { schemas } from "./schemas.js";

export interface AppOptions {
  config: Config;
}

/** Options for the Fastify instance the app is registered on (server.ts and the tests use the same). */
export function serverOptions(config: Config): FastifyServerOptions {
  return {
    logger: loggerOptions(config.logLevel),
    bodyLimit: config.requestKiB * 1024,
    // Routes answer 503 while closing, instead of hanging up on clients.
    return503OnClosing: true,
    // Starting includes each pack's self-test (dozens of gradings), which is bounded by its own
    // limits, not by Fastify's default 10 s plugin timeout.
    pluginTimeout: 0,
    // A request is taken as sent: no type coercion (42 is not a source) and no silent dropping of unknown fields.
    ajv: { customOptions: { allErrors: false, strict: false, coerceTypes: false, removeAdditional: false } },
    // A path parameter longer than this answers 414 uri_too_long (ids are at most 64 characters).
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors the router raises before any route (bad URL encoding, too-long parameters) get the catalog's body too.
    frameworkErrors,
  };
}

function toApiError(error: FastifyError): ApiError {
  if (error instanceof ApiError) return error;
  if (error.validation !== undefined) {
    return new ApiError("invalid_request", [error.message], { details: error.validation.map((v) => ({ path: v.instancePath, message: v.message })) });
  }
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE": return apiError("request_too_large", "the route's");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE": return apiError("unsupported_media_type");
    case "FST_ERR_CTP_EMPTY_JSON_BODY": return apiError("invalid_json", "the body is empty");
    case "FST_ERR_CTP_INVALID_JSON_BODY": return apiError("invalid_json", error.message);
    default:
      break;
  }
  if (error instanceof SyntaxError && error.statusCode === 400) return apiError("invalid_json", error.message);
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return apiError("invalid_request", error.message);
  return apiError("internal_error", "unknown");
}

/** The service as a Fastify plugin: decorators, routes and the one error handler. */
export const app: FastifyPluginAsync<AppOptions> = async (fastify: FastifyInstance, { config }) => {
  for (const schema of Object.values(schemas)) fastify.addSchema(schema);
  // The API speaks JSON only: any other body is 415, not a confusing validation error.
  fastify.removeContentTypeParser("text/plain");

  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    let apiErr = toApiError(error);
    if (apiErr.code === "internal_error") {
      request.log.error({ err: error }, "internal error");
      apiErr = apiError("internal_error", String(request.id));
    } else if (apiErr.code === "request_too_large") {
      const limit = request.routeOptions.bodyLimit ?? config.requestKiB * 1024;
      apiErr = apiError("request_too_large", Math.round(limit / 1024));
    }
    const body: { error: { code: string; message: string; details?: unknown } } = { error: { code: apiErr.code, message: apiErr.message } };
    if (apiErr.details !== undefined) body.error.details = apiErr.details;
    return reply.code(errorCatalog[apiErr.code].status).headers(apiErr.headers).send(body);
  });

  fastify.setNotFoundHandler((request, reply) => {
    const { code, message } = apiError("route_not_found", request.method, request.url.split("?")[0] ?? "");
    return reply.code(404).send({ error: { code, message } });
  });

  await fastify.register(openapiPlugin);
  await fastify.register(sandboxPlugin, { config });
  await fastify.register(typescriptPlugin, { config });
  await fastify.register(gradersPlugin, { config });
  await fastify.register(healthRoutes);
  await fastify.register(assignmentRoutes, { config });
  await fastify.register(submissionRoutes, { config });
};

export default app;
