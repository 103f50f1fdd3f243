/**
 * The console's one way to the service: the same /v1 API every client uses. The session cookie is
 * HttpOnly (this code never sees the key); each request carries the session's CSRF token, which the
 * shell page holds in a meta tag, and the browser adds the Origin.
 */

const csrf = document.querySelector<HTMLMetaElement>('meta[name="gradebox-csrf"]')?.content ?? "";
export const isAdmin = document.querySelector<HTMLMetaElement>('meta[name="gradebox-admin"]')?.content === "true";

/** An answer of the API's error shape, {error: {code, message}}, with its HTTP status. */
export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

async function request(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { "x-gradebox-csrf": csrf, accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, credentials: "same-origin", ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (!response.ok) {
    let code = "http_error";
    let message = `${response.status} ${response.statusText}`;
    try {
      const parsed = (await response.json()) as { error?: { code?: string; message?: string } };
      code = parsed.error?.code ?? code;
      message = parsed.error?.message ?? message;
    } catch {
      // Not the API's error shape: the status says enough.
    }
    throw new ApiFailure(response.status, code, message);
  }
  return response;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await request("GET", path)).json()) as T;
}

export async function getText(path: string): Promise<string> {
  return (await request("GET", path)).text();
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return (await (await request("POST", path, body)).json()) as T;
}

export async function putJson<T>(path: string, body: unknown): Promise<T> {
  return (await (await request("PUT", path, body)).json()) as T;
}
