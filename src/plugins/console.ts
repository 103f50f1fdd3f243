import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { hasScope, type KeyStore } from "../auth/keys.js";
import type { Config } from "../config.js";
import { clearedSessionCookie, cookieValue, csrfToken, sameOrigin, SESSION_COOKIE, sessionCookie } from "../console/session.js";
import { shellPage, signInPage } from "../console/pages.js";
import { packageRoot } from "../paths.js";
import { clientOf } from "./auth.js";

/** Where `npm run build` leaves the console's bundle (scripts/build-console.mjs). */
export const CONSOLE_ASSETS_DIR = path.join(packageRoot, "dist", "console");
/** The sign-in form's body is one key: a few hundred bytes; anything larger is not a sign-in. */
const SIGN_IN_BODY_LIMIT = 4096;

const ASSET_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

// Scripts from this origin only (no inline script, no eval); CodeMirror and Plot add <style>
// elements of their own, hence 'unsafe-inline' for styles only. No framing (clickjacking).
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function htmlHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .type("text/html; charset=utf-8")
    .header("content-security-policy", CSP)
    .header("x-frame-options", "DENY")
    // same-origin, not no-referrer: with no-referrer the browser sends `Origin: null` on the sign-in form, which the Origin check refuses.
    .header("referrer-policy", "same-origin")
    .header("x-content-type-options", "nosniff")
    .header("cache-control", "no-store");
}

/** The built bundle, read once: a handful of files, served from memory. */
function loadAssets(): Map<string, { body: Buffer; type: string }> {
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const name of ["console.js", "console.css", "console.js.map"]) {
    const file = path.join(CONSOLE_ASSETS_DIR, name);
    if (existsSync(file)) assets.set(name, { body: readFileSync(file), type: ASSET_TYPES[path.extname(name)] ?? "application/octet-stream" });
  }
  return assets;
}

/**
 * The instructor console (issue #20) under /console: a sign-in form, a shell page and its bundle.
 * Everything it shows comes from the /v1 API, called by the page's own code with the session cookie
 * and its CSRF token (src/console/session.ts); these routes only start and end the session.
 */
const consolePlugin: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  const assets = loadAssets();
  if (!assets.has("console.js")) fastify.log.warn({ dir: CONSOLE_ASSETS_DIR }, "the console's bundle is missing (npm run build makes it): /console will not work");
  const keys = (): KeyStore => fastify.keys;
  const canSignIn = async (): Promise<boolean> => config.adminToken !== "" || await keys().anyKeys();
  const secure = (request: FastifyRequest): boolean => request.protocol === "https";

  // The sign-in form posts application/x-www-form-urlencoded, here only (the API speaks JSON).
  fastify.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: SIGN_IN_BODY_LIMIT }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  fastify.get("/console/assets/:file", { schema: { hide: true } }, async (request, reply) => {
    const asset = assets.get((request.params as { file: string }).file);
    if (asset === undefined) return reply.code(404).send({ error: { code: "route_not_found", message: `No route GET ${request.url}` } });
    return reply.type(asset.type).header("x-content-type-options", "nosniff").header("cache-control", "no-cache").send(asset.body);
  });

  const shell = async (request: FastifyRequest, reply: FastifyReply) => {
    const secret = cookieValue(request.headers.cookie, SESSION_COOKIE);
    const client = secret === undefined || secret === "" ? "unknown" : await clientOf(secret, keys(), config.adminToken);
    if (client === "unknown") {
      // A stale cookie (revoked key, changed ADMIN_TOKEN) is dropped, and the form is shown.
      if (secret !== undefined) void reply.header("set-cookie", clearedSessionCookie(secure(request)));
      return htmlHeaders(reply).send(signInPage({ canSignIn: await canSignIn() }));
    }
    return htmlHeaders(reply).send(shellPage({ csrf: csrfToken(secret!), client: client.name, admin: hasScope(client, "admin") }));
  };
  fastify.get("/console", { schema: { hide: true } }, shell);
  // Every page of the console is the same shell; the client code reads the path.
  fastify.get("/console/*", { schema: { hide: true } }, shell);

  fastify.post<{ Body: { key?: unknown } }>("/console/login", { schema: { hide: true }, bodyLimit: SIGN_IN_BODY_LIMIT }, async (request, reply) => {
    // Login CSRF (signing a victim in as someone else) is refused like any cross-site change.
    if (!sameOrigin(request)) return htmlHeaders(reply.code(403)).send(signInPage({ canSignIn: await canSignIn(), error: "Sign in from the console's own page." }));
    const key = typeof request.body?.key === "string" ? request.body.key.trim() : "";
    const client = key === "" ? "unknown" : await clientOf(key, keys(), config.adminToken);
    if (client === "unknown") {
      request.log.info({ console: "sign-in refused" }, "console sign-in refused");
      return htmlHeaders(reply.code(401)).send(signInPage({ canSignIn: await canSignIn(), error: "That is not a valid API key or ADMIN_TOKEN." }));
    }
    request.log.info({ client: client.id }, "console sign-in");
    return reply.code(303).header("set-cookie", sessionCookie(key, secure(request))).header("location", "/console").send();
  });

  fastify.post("/console/logout", { schema: { hide: true } }, async (request, reply) => {
    if (!sameOrigin(request)) return htmlHeaders(reply.code(403)).send(signInPage({ canSignIn: await canSignIn(), error: "Sign out from the console's own page." }));
    return reply.code(303).header("set-cookie", clearedSessionCookie(secure(request))).header("location", "/console").send();
  });
};

export default consolePlugin;
