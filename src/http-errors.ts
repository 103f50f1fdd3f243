import { maxHeaderSize, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance, HTTPMethods, RouteOptions } from "fastify";
import { apiError, errorCatalog, type ApiError } from "./errors.js";

/**
 * The HTTP-level answers fastify would otherwise give in its own shape: a known path asked with the
 * wrong method (405 with Allow, instead of a 404), and requests Node's parser refuses before fastify
 * sees them (headers too large, malformed HTTP). Every one is `{error: {code, message}}`.
 */

/** The routes' patterns and methods, to tell "no such path" (404) from "not with this method" (405). */
export class RouteMethods {
  private readonly routes: Array<{ pattern: RegExp; methods: Set<string> }> = [];

  add(route: Pick<RouteOptions, "method" | "url">): void {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]) as HTTPMethods[];
    const pattern = patternOf(route.url);
    let entry = this.routes.find((r) => r.pattern.source === pattern.source);
    if (entry === undefined) {
      entry = { pattern, methods: new Set() };
      this.routes.push(entry);
    }
    for (const method of methods) {
      entry.methods.add(method);
      // fastify answers HEAD for every GET route.
      if (method === "GET") entry.methods.add("HEAD");
    }
  }

  /** The methods some route accepts at this path (sorted), or none if no route has this path. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes) if (route.pattern.test(path)) for (const m of route.methods) methods.add(m);
    return [...methods].sort();
  }
}

/** "/v1/assignments/:id/helpers/:specifier" → a RegExp over one path; "*" matches the rest. */
function patternOf(url: string): RegExp {
  const parts = url.split("/").map((segment) => {
    if (segment === "*") return ".*";
    if (segment.startsWith(":")) return "[^/]+";
    return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  });
  return new RegExp(`^${parts.join("/")}$`);
}

/** Answers 404 route_not_found, or 405 method_not_allowed with Allow when the path exists under another method. */
export function notFoundOrWrongMethod(routes: RouteMethods, method: string, url: string): { status: number; error: ApiError; headers: Record<string, string> } {
  const path = url.split("?")[0] ?? "";
  const allowed = routes.allowed(path);
  if (allowed.length > 0 && !allowed.includes(method)) {
    return { status: 405, error: apiError("method_not_allowed", path, method, allowed.join(", ")), headers: { allow: allowed.join(", ") } };
  }
  return { status: 404, error: apiError("route_not_found", method, path), headers: {} };
}

/**
 * fastify's clientErrorHandler: Node's HTTP parser refused the request, so there is no request object,
 * only the socket. Answers in the service's error shape and closes the connection.
 */
export function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const apiErr = error.code === "HPE_HEADER_OVERFLOW"
    ? apiError("header_too_large", maxHeaderSize / 1024)
    : apiError("invalid_request", "the HTTP request is malformed");
  const status = errorCatalog[apiErr.code].status;
  const body = JSON.stringify({ error: { code: apiErr.code, message: apiErr.message } });
  this.log.debug({ code: error.code }, "client error");
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}
