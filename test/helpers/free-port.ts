import { createServer } from "node:net";

/**
 * A loopback port free at the time of asking, for a child that must be told its port before it starts
 * (pg_ctl's `-p`, a service bench run with LOG_LEVEL=warn, which does not log the port it bound).
 * Another process may take it before the child binds it: callers that can retry do.
 * A server of our own binds port 0 instead.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
