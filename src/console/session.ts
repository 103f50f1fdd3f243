import { createHmac, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";

/**
 * The instructor console's session: the key (or ADMIN_TOKEN) the instructor signed in with, kept in
 * an HttpOnly, SameSite=Strict cookie, so the page's scripts never hold it (an injected script could
 * not read it and send it elsewhere). The cookie authenticates /v1 requests, but never alone: a
 * request that relies on it must also carry the session's CSRF token in a header, and, for a change,
 * an Origin equal to the service's own. Three walls against cross-site requests:
 * - SameSite=Strict: the browser does not send the cookie with a request another site starts;
 * - the CSRF header: only a page of this origin can read the token (it is in the console's HTML) and
 *   set a custom header (another origin's would need a CORS preflight, which this service never grants);
 * - the Origin check, for browsers that get SameSite wrong.
 * The token is an HMAC of the secret, so it is stateless: any node checks it, a restart keeps it, and
 * revoking the key ends the session at once (the key is verified on every request, as a bearer's is).
 */

export const SESSION_COOKIE = "gradebox_console";
export const CSRF_HEADER = "x-gradebox-csrf";

/** The CSRF token of a session: derived from its secret, useless without the cookie. */
export function csrfToken(secret: string): string {
  return createHmac("sha256", secret).update("gradebox console csrf v1").digest("base64url");
}

/** One cookie's value from a Cookie header (RFC 6265: `name=value; name2=value2`). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The service's own origin as the browser names it (scheme, host and port). */
export function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether a request's Origin (when the browser sent one) is this service's; a change must send one. */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return SAFE_METHODS.has(request.method);
  return origin === ownOrigin(request);
}

export type SessionCredential =
  | { kind: "none" }
  | { kind: "secret"; secret: string }
  | { kind: "refused"; reason: string };

/** The secret a console request authenticates with, when it has no Authorization header. */
export function sessionCredential(request: FastifyRequest): SessionCredential {
  const secret = cookieValue(request.headers.cookie, SESSION_COOKIE);
  if (secret === undefined || secret === "") return { kind: "none" };
  const given = request.headers[CSRF_HEADER];
  // Without the header the cookie is not a credential at all: the request is treated as anonymous,
  // so a browser navigating to a /v1 URL behaves as it would without the console.
  if (typeof given !== "string") return { kind: "none" };
  const expected = Buffer.from(csrfToken(secret));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return { kind: "refused", reason: "the console session's CSRF token does not match; sign in again" };
  if (!sameOrigin(request)) return { kind: "refused", reason: "a console session is accepted only from the console's own origin" };
  return { kind: "secret", secret };
}

/** Set-Cookie for a new session: HttpOnly, SameSite=Strict, Secure over HTTPS; ends with the browser. */
export function sessionCookie(secret: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(secret)}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}
