import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { apiError, errorCatalog, type ApiError } from "./errors.js";

/** The longest path parameter the router accepts (fastify's default, named). */
export const MAX_PARAM_LENGTH = 100;

/**
 * Fastify's router answers some requests before any route or error handler sees them, with its own
 * body ({"code":"FST_ERR_BAD_URL",…}). This handler (fastify's `frameworkErrors` option) gives them
 * the catalog's `{error: {code, message}}` instead, like every other error of the API. The URL is
 * not echoed: it is the client's, and may be long.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  let apiErr: ApiError;
  if (error.code === "FST_ERR_BAD_URL") {
    apiErr = apiError("bad_url");
  } else if (error.code === "FST_ERR_MAX_PARAM_LENGTH") {
    apiErr = apiError("uri_too_long", MAX_PARAM_LENGTH);
  } else {
    request.log.error({ err: error }, "internal error");
    apiErr = apiError("internal_error", String(request.id));
  }
  void reply.code(errorCatalog[apiErr.code].status).send({ error: { code: apiErr.code, message: apiErr.message } });
}
