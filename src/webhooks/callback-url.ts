/**
 * Server-side request forgery is the risk of a callback: the service would POST wherever a client
 * says, from inside the operator's network. Only hosts the operator listed in CALLBACK_HOSTS are
 * allowed: an entry `host` allows any port of it, `host:port` only that port. Only http and https,
 * no credentials in the URL.
 */
export function callbackUrlProblem(raw: string, allowedHosts: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "it is not an absolute URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `its scheme is ${url.protocol.slice(0, -1)}; only http and https are allowed`;
  if (url.username !== "" || url.password !== "") return "it carries credentials; put them in the receiver's configuration, not the URL";
  const host = url.hostname.toLowerCase();
  const port = url.port !== "" ? url.port : url.protocol === "https:" ? "443" : "80";
  const allowed = allowedHosts.some((entry) => entry === host || entry === `${host}:${port}`);
  return allowed ? undefined : `its host ${host}:${port} is not listed in CALLBACK_HOSTS`;
}
