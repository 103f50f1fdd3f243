/**
 * The service as its own process (`node dist/src/server.js`, as `npm start` runs it) for the benches that
 * measure it from outside (store.ts, regrades.ts). It logs at warn only, so that log lines do not take the
 * CPU the bench measures; the port is therefore chosen beforehand (freePort), since the service does not
 * log the one it bound. test/helpers/service.ts is the tests' starter: info logs kept for the test to read.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../test/helpers/free-port.js";
import { sleep } from "./lib.js";

const serverScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "server.js");

/** How long the service may take to answer /health (a loaded 2-core machine is slow). */
const START_TIMEOUT_MS = 120_000;
const START_POLL_MS = 100;

export interface ServerProcess { child: ChildProcess; url: string; stop(): Promise<void> }

/** Starts the service with `env` over this process's environment; resolves once /health answers. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--no-node-snapshot", serverScript], {
    // A bench measures the service, not its rate limiter: one loopback client sends far more than 600 a minute.
    env: { RATE_LIMIT_PER_MIN: "1000000", ...process.env, LOG_LEVEL: "warn", HOST: "127.0.0.1", PORT: String(port), ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (const started = Date.now(); ;) {
    if (child.exitCode !== null) throw new Error("the service exited while starting");
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break;
    if (Date.now() - started > START_TIMEOUT_MS) {
      child.kill("SIGKILL");
      throw new Error(`the service did not start within ${START_TIMEOUT_MS / 1000} s`);
    }
    await sleep(START_POLL_MS);
  }
  return { child, url, stop: async () => { child.kill("SIGTERM"); await exited; } };
}
