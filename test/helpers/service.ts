import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { root } from "./app.js";

/** The service as its own process (`node dist/src/server.js`), as an operator runs it. */
export interface Service {
  child: ChildProcess;
  url: string;
  /** Resolves with the exit code (null when a signal stopped it). */
  exited: Promise<number | null>;
  /** Everything it printed so far (its pino log lines and stderr). */
  output(): string;
  /** Whether the process is still running. */
  alive(): boolean;
}

/** How much of a service's output is kept for the test to read. */
const OUTPUT_MAX_CHARS = 50_000_000;

/**
 * Starts a service in its own process group (detached), so that one kill reaches its grading
 * workers too; resolves once it listens. Its output is kept (tests read its log lines, and `onOutput` sees
 * it grow before the service listens) and always drained, so a full pipe never blocks it.
 */
export async function startService(env: Record<string, string>, options: { onOutput?: (text: string) => void } = {}): Promise<Service> {
  const child = spawn(process.execPath, ["--no-node-snapshot", path.join(root, "dist", "src", "server.js")], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => {
    exitCode = code;
    resolve(code);
  }));
  let text = "";
  const keep = (chunk: Buffer) => {
    if (text.length < OUTPUT_MAX_CHARS) text += chunk.toString();
    options.onOutput?.(text);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start: ${text.slice(-2000)}`)), 120_000);
    const look = () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        child.stdout?.off("data", look);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", look);
    void exited.then(() => reject(new Error(`the service exited: ${text.slice(-2000)}`)));
  });
  return { child, url, exited, output: () => text, alive: () => exitCode === undefined };
}

/** SIGKILL to the service's whole process group (its workers die with it); resolves once it exited. */
export async function killGroup(service: Service): Promise<void> {
  if (service.alive() && service.child.pid !== undefined) {
    try {
      process.kill(-service.child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await service.exited;
}
