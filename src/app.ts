import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyServerOptions } from "fastify";
import type { Config } from "./config.js";
import type { KeyStore } from "./auth/keys.js";
import type { Drain } from "./drain.js";
import { ApiError, apiError, errorCatalog } from "./errors.js";
import { clientErrorHandler, notFoundOrWrongMethod, RouteMethods } from "./http-errors.js";
import { frameworkErrors, MAX_PARAM_LENGTH } from "./framework-errors.js";
import { loggerOptions } from "./logger.js";
import authPlugin from "./plugins/auth.js";
import drainPlugin from "./plugins/drain.js";
import metricsPlugin from "./plugins/metrics.js";
import rateLimitPlugin from "./plugins/rate-limit.js";
import readinessPlugin from "./plugins/readiness.js";
import packsPlugin from "./plugins/packs.js";
import packSyncPlugin from "./plugins/pack-sync.js";
import openapiPlugin from "./plugins/openapi.js";
import sandboxPlugin from "./plugins/sandbox.js";
import storePlugin from "./plugins/store.js";
import regradesPlugin from "./plugins/regrades.js";
import typescriptPlugin from "./plugins/typescript.js";
import activityRoutes from "./routes/activity.js";
import assignmentRoutes from "./routes/assignments.js";
import consolePlugin from "./plugins/console.js";
import instructorRoutes from "./routes/instructor.js";
import submissionSourceRoutes from "./routes/submission-source.js";
import healthRoutes from "./routes/health.js";
import submissionRecordRoutes from "./routes/submission-records.js";
import regradeRoutes from "./routes/regrades.js";
import metricsRoutes from "./routes/metrics.js";
import probeRoutes from "./routes/probes.js";
import submissionRoutes from "./routes/submissions.js";
import { schemas } from "./schemas.js";
import { StoreUnavailableError } from "./store/store.js";

export interface AppOptions {
  config: Config;
  /** The drain server.ts starts on a stop signal (the app is encapsulated: its decorators are not the server's). */
  drain?: Drain;
  /** The API keys' store; by default SQLite in DATA_DIR. */
  keys?: KeyStore;
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
    // Requests Node's parser refuses (headers too large…) answer in the service's error shape too.
    clientErrorHandler,
    // A path parameter longer than this answers 414 uri_too_long (ids are at most 64 characters).
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors the router raises before any route (bad URL encoding, too-long parameters) get the catalog's body too.
    frameworkErrors,
  };
}

/** Any error a route or fastify throws, as a catalog error: unknown ones are internal_error (a bug). */
export function toApiError(error: FastifyError, bodyLimitKiB: number): ApiError {
  if (error instanceof ApiError) return error;
  // The database is down or restarting: not a bug (no 500), and the client may come back. Why it is
  // down (addresses, server messages) is for /health and the log, not for every client.
  if (error instanceof StoreUnavailableError) {
    return new ApiError("store_unavailable", [error.retryAfterS], { headers: { "retry-after": String(error.retryAfterS) } });
  }
  if (error.validation !== undefined) {
    return new ApiError("invalid_request", [error.message], { details: error.validation.map((v) => ({ path: v.instancePath, message: v.message })) });
  }
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE": return apiError("request_too_large", bodyLimitKiB);
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE": return apiError("unsupported_media_type");
    case "FST_ERR_CTP_EMPTY_JSON_BODY": return apiError("invalid_json", "the body is empty");
    case "FST_ERR_CTP_INVALID_JSON_BODY": return apiError("invalid_json", error.message);
    default:
      break;
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return apiError("invalid_request", error.message);
  return apiError("internal_error", "unknown");
}

/** The service as a Fastify plugin: decorators, routes and the one error handler. */
export const app: FastifyPluginAsync<AppOptions> = async (fastify: FastifyInstance, { config, drain, keys }) => {
  for (const schema of Object.values(schemas)) fastify.addSchema(schema);
  const routeMethods = new RouteMethods();
  fastify.addHook("onRoute", (route) => routeMethods.add(route));
  // The API speaks JSON only: any other body is 415, not a confusing validation error.
  fastify.removeContentTypeParser("text/plain");

  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    let apiErr = toApiError(error, Math.round((request.routeOptions.bodyLimit ?? config.requestKiB * 1024) / 1024));
    if (apiErr.code === "internal_error") {
      request.log.error({ err: error }, "internal error");
      apiErr = apiError("internal_error", String(request.id));
    }
    const body: { error: { code: string; message: string; details?: unknown } } = { error: { code: apiErr.code, message: apiErr.message } };
    if (apiErr.details !== undefined) body.error.details = apiErr.details;
    return reply.code(errorCatalog[apiErr.code].status).headers(apiErr.headers).send(body);
  });

  fastify.setNotFoundHandler((request, reply) => {
    const { status, error: { code, message }, headers } = notFoundOrWrongMethod(routeMethods, request.method, request.url);
    return reply.code(status).headers(headers).send({ error: { code, message } });
  });

  await fastify.register(metricsPlugin);
  // Auth's hook runs before the rate limit's (which keys on the client) and the drain's.
  await fastify.register(authPlugin, keys === undefined ? { config } : { config, keys });
  await fastify.register(rateLimitPlugin, { config });
  await fastify.register(drainPlugin, drain === undefined ? {} : { drain });
  await fastify.register(openapiPlugin);
  await fastify.register(sandboxPlugin, { config });
  await fastify.register(typescriptPlugin, { config });
  await fastify.register(packsPlugin, { config });
  await fastify.register(storePlugin, { config });
  await fastify.register(packSyncPlugin);
  await fastify.register(regradesPlugin, { config });
  await fastify.register(readinessPlugin);
  await fastify.register(healthRoutes);
  await fastify.register(probeRoutes);
  await fastify.register(metricsRoutes, { config });
  // A grading-only node (ROLE=worker) answers the probes and metrics above, not the API nor the console.
  if (config.role !== "worker") {
    await fastify.register(assignmentRoutes, { config });
    await fastify.register(submissionRoutes, { config });
    await fastify.register(submissionRecordRoutes);
    await fastify.register(regradeRoutes, { config });
    // The instructor's routes and console (issue #20).
    await fastify.register(instructorRoutes, { config });
    await fastify.register(activityRoutes);
    await fastify.register(submissionSourceRoutes);
    await fastify.register(consolePlugin, { config });
  }
};

export default app;
