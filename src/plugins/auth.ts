import type { FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { Config } from "../config.js";
import { ApiError, apiError } from "../errors.js";
import { hasScope, tokenMatches, type Client, type KeyStore } from "../auth/keys.js";
import { isV1Path, requiredScope } from "../auth/scopes.js";
import { openKeyStore } from "../auth/open.js";
import { sessionCredential } from "../console/session.js";

declare module "fastify" {
  interface FastifyInstance {
    keys: KeyStore;
  }
  interface FastifyRequest {
    /** Who sent the request: an API key's client, the ADMIN_TOKEN, or null (no token, while the service is open). */
    client: Client | null;
  }
}

/** ADMIN_TOKEN as a client: the bootstrap admin key, kept outside the store. */
export const adminTokenClient: Client = { id: "admin-token", name: "ADMIN_TOKEN", scopes: ["admin"], rateLimitPerMin: null };

const BEARER = "bearer";

/**
 * The token of an `Authorization: Bearer <token>` header, if it is one: everything after the scheme,
 * trimmed (ADMIN_TOKEN may be a passphrase with spaces). No regex: a header is the client's to choose.
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.slice(0, BEARER.length).toLowerCase() !== BEARER) return undefined;
  const rest = header.slice(BEARER.length);
  if (!/^\s/.test(rest)) return undefined;
  const token = rest.trim();
  return token === "" ? undefined : token;
}

/**
 * The client a request's bearer token names: null with no Authorization header (and no console
 * session), "unknown" for a token that is neither ADMIN_TOKEN nor a live key (or a header that is not
 * a bearer token). A console session whose CSRF token or Origin is wrong throws 401.
 */
export async function authenticate(request: FastifyRequest, keys: KeyStore, adminToken: string): Promise<Client | null | "unknown"> {
  const header = request.headers.authorization;
  if (header === undefined) {
    // The console's cookie (src/console/session.ts), only with its CSRF header and from this origin.
    const session = sessionCredential(request);
    if (session.kind === "none") return null;
    if (session.kind === "refused") throw new ApiError("unauthorized", [session.reason]);
    return clientOf(session.secret, keys, adminToken);
  }
  const secret = bearerToken(header);
  if (secret === undefined) return "unknown";
  return clientOf(secret, keys, adminToken);
}

/** The client a secret names: ADMIN_TOKEN's, a live key's, or "unknown". */
export async function clientOf(secret: string, keys: KeyStore, adminToken: string): Promise<Client | "unknown"> {
  if (adminToken !== "" && tokenMatches(secret, adminToken)) return adminTokenClient;
  const key = await keys.verify(secret);
  if (key === undefined) return "unknown";
  return { id: key.id, name: key.name, scopes: key.scopes, rateLimitPerMin: key.rateLimitPerMin };
}

/**
 * API keys. While no key was ever created the service is open, as before keys existed (admin routes
 * excepted: they always need ADMIN_TOKEN or an admin key); from the first key on, every /v1 route
 * needs `Authorization: Bearer <secret>` with the route's scope (src/auth/scopes.ts).
 */
export default fp<{ config: Config; keys?: KeyStore }>(async (fastify, { config, keys: given }) => {
  const keys = given ?? await openKeyStore(config);
  fastify.decorate("keys", keys);
  fastify.decorateRequest("client", null);
  fastify.addHook("onClose", async () => keys.close());

  const loopback = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(config.host);
  if (!loopback && !(await keys.anyKeys())) {
    fastify.log.warn({ host: config.host }, "no API key exists: every /v1 route is open to anyone who can reach this address; create one with gradebox-keys create");
  }

  fastify.addHook("onRequest", async (request) => {
    if (!isV1Path(request.url)) return;
    const client = await authenticate(request, keys, config.adminToken);
    if (client === "unknown") throw new ApiError("unauthorized", ["the bearer token is not a valid key"]);
    request.client = client;
    const scope = requiredScope(request.method, request.routeOptions.url);
    if (client === null) {
      if (scope === "admin") throw new ApiError("unauthorized", ["this route needs an admin key"]);
      if (await keys.anyKeys()) throw new ApiError("unauthorized", ["this route needs an API key"]);
      return;
    }
    if (scope !== "any" && !hasScope(client, scope)) throw apiError("forbidden", scope);
  });
}, { name: "auth" });
