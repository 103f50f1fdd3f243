import { spawnSync } from "node:child_process";
import { promises as dns } from "node:dns";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";

/**
 * What a worker process itself can reach, as an attacker who escaped V8 would: the test-only probe of the
 * second wall. The worker runs it only when started with `--probes`, which the pool never passes, and
 * the message that asks for it is not part of the pool's protocol: no HTTP route can reach it.
 * Each attempt answers whether the wall stopped it, and the error that did.
 */

export interface ProbeRequest {
  type: "probe";
  /** A loopback port the test listens on. */
  port: number;
  /** The service's pid on the host. */
  parentPid: number;
  /** Files and folders the worker must not read (graders/, a hidden case, the data folder…). */
  secrets: string[];
  /** Folders it must not write to. */
  readOnly: string[];
}

export interface ProbeAttempt {
  attempt: string;
  stopped: boolean;
  by: string;
}

const TMP_FILE = "/tmp/probe";

function attempt(name: string, act: () => unknown): ProbeAttempt {
  try {
    act();
    return { attempt: name, stopped: false, by: "" };
  } catch (error) {
    return { attempt: name, stopped: true, by: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}

async function attemptAsync(name: string, act: () => Promise<unknown>): Promise<ProbeAttempt> {
  try {
    await act();
    return { attempt: name, stopped: false, by: "" };
  } catch (error) {
    return { attempt: name, stopped: true, by: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}

function connect(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
    socket.once("error", reject);
  });
}

export async function probe(request: ProbeRequest): Promise<ProbeAttempt[]> {
  // Past RLIMIT_FSIZE the kernel sends SIGXFSZ, which would end the probe; handled, the write fails with EFBIG.
  process.on("SIGXFSZ", () => undefined);
  const attempts: ProbeAttempt[] = [
    await attemptAsync("resolve a name", () => dns.lookup("localhost")),
    await attemptAsync("resolve a name through DNS", () => dns.resolve4("example.com")),
    await attemptAsync(`connect to 127.0.0.1:${request.port}`, () => connect(request.port)),
    attempt("read /etc/shadow", () => readFileSync("/etc/shadow")),
    attempt("read /etc/passwd", () => readFileSync("/etc/passwd")),
    attempt("list /root", () => readdirSync("/root")),
    attempt(`signal the service (pid ${request.parentPid})`, () => process.kill(request.parentPid, 0)),
    // PID 1 is bubblewrap's init, the worker's parent inside the sandbox.
    attempt("see any process but itself and its sandbox's init in /proc", () => {
      const others = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry) && entry !== String(process.pid) && entry !== "1");
      if (others.length === 0) throw Object.assign(new Error("no other process"), { code: "none visible" });
    }),
    attempt("start a program", () => {
      const run = spawnSync(process.execPath, ["-e", "0"]);
      if (run.error !== undefined) throw run.error;
    }),
    // Replacing itself by another program (execve) without a new process: Node 20 has no way to ask for it
    // (process.execve came in Node 22.15), so the attempt is made only where Node offers it; elsewhere the
    // second filter is tested from outside (test/sandbox/confinement-no-exec.test.ts). Where a refused
    // process.execve aborts the process instead of throwing (before nodejs/node#62878), the probe dies, loudly.
    ...(typeof (process as { execve?: unknown }).execve === "function"
      ? [attempt("replace itself by another program (execve)", () => (process as unknown as { execve: (file: string, args: string[]) => void }).execve(process.execPath, [process.execPath, "-e", "0"]))]
      : []),
    attempt("write a file larger than the limit to /tmp", () => writeFileSync(TMP_FILE, Buffer.alloc(4 * 1024 * 1024))),
    attempt("write to /", () => writeFileSync("/probe", "x")),
  ];
  for (const secret of request.secrets) attempts.push(attempt(`read ${secret}`, () => readdirOrFile(secret)));
  for (const folder of request.readOnly) attempts.push(attempt(`write to ${folder}`, () => writeFileSync(path.join(folder, "probe"), "x")));
  // The one place it may write: a small tmpfs.
  const tmp = attempt("write a small file to /tmp", () => writeFileSync(TMP_FILE, "x"));
  attempts.push({ ...tmp, attempt: "write a small file to /tmp (allowed)" });
  return attempts;
}

function readdirOrFile(target: string): unknown {
  try {
    return readdirSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOTDIR") return readFileSync(target);
    throw error;
  }
}
