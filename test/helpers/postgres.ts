import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, chownSync, chmodSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import type { Test } from "tap";
import { freePort } from "./free-port.js";

/**
 * A throwaway PostgreSQL cluster for tests (issue #15): initdb into a fresh temporary folder, on a
 * free loopback port, started with pg_ctl, stopped and removed at teardown. initdb refuses to run
 * as root, so as root the cluster belongs to the `postgres` user (runuser, else su). Debian keeps
 * the binaries in /usr/lib/postgresql/<version>/bin, which is not on PATH: both are searched.
 *
 * A test file that needs PostgreSQL calls `postgresForTests(t)`. When no cluster can start there it
 * skips, saying why; with `CI` set it fails instead (.ci/run installs PostgreSQL, so CI must run them).
 */

const run = promisify(execFile);

/** How long pg_ctl may wait for the server to start or stop (a loaded 2-core machine is slow). */
const PG_CTL_WAIT_S = 120;

export interface PostgresCluster {
  host: string;
  port: number;
  /** The superuser's URL for a database of the cluster (default: `postgres`). */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** `pg_ctl restart -m fast`: every connection is cut, then the server answers again. */
  restart(): Promise<void>;
  /** `pg_ctl stop -m fast`: the server is down until start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server (if running) and removes its folder. */
  destroy(): Promise<void>;
}

/** The folder of initdb and pg_ctl: PATH first, then Debian's /usr/lib/postgresql/<newest>/bin. */
export function findPostgresBin(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir !== "" && existsSync(path.join(dir, "initdb")) && existsSync(path.join(dir, "pg_ctl"))) return dir;
  }
  const debian = "/usr/lib/postgresql";
  if (!existsSync(debian)) return undefined;
  const versions = readdirSync(debian).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = path.join(debian, version, "bin");
    if (existsSync(path.join(bin, "initdb")) && existsSync(path.join(bin, "pg_ctl"))) return bin;
  }
  return undefined;
}

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** The user the cluster runs as when the tests run as root. */
const CLUSTER_USER = "postgres";

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. */
async function runAs(bin: string, args: string[]): Promise<void> {
  if (!isRoot()) {
    await run(bin, args, { timeout: (PG_CTL_WAIT_S + 10) * 1000 });
    return;
  }
  const quoted = [bin, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].find((p) => existsSync(p));
  if (runuser !== undefined) await run(runuser, ["-u", CLUSTER_USER, "--", bin, ...args], { timeout: (PG_CTL_WAIT_S + 10) * 1000 });
  else await run("su", [CLUSTER_USER, "-s", "/bin/sh", "-c", quoted], { timeout: (PG_CTL_WAIT_S + 10) * 1000 });
}

function uidOf(user: string): { uid: number; gid: number } | undefined {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${user}:`));
  if (line === undefined) return undefined;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

export interface StartOptions {
  /**
   * Durability off (fsync, synchronous_commit, full_page_writes): tests need a database, not its
   * crash safety, and a loaded CI disk makes every commit's fsync a test's slowest step. The bench
   * keeps them on.
   */
  fast?: boolean;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
}

/** Starts a new cluster; throws with the reason when it cannot. */
export async function startPostgres(options: StartOptions = {}): Promise<PostgresCluster> {
  const bin = findPostgresBin();
  if (bin === undefined) throw new Error("initdb/pg_ctl were not found on PATH or under /usr/lib/postgresql/*/bin (install Debian's postgresql package)");
  const root = mkdtempSync(path.join(tmpdir(), "gradebox-pg-"));
  const dataDir = path.join(root, "data");
  const socketDir = path.join(root, "socket");
  const logFile = path.join(root, "server.log");
  mkdirSync(socketDir);
  if (isRoot()) {
    const owner = uidOf(CLUSTER_USER);
    if (owner === undefined) {
      rmSync(root, { recursive: true, force: true });
      throw new Error(`running as root, and there is no '${CLUSTER_USER}' user to run initdb as (initdb refuses root)`);
    }
    chownSync(root, owner.uid, owner.gid);
    chownSync(socketDir, owner.uid, owner.gid);
  }
  chmodSync(root, 0o700);
  const host = "127.0.0.1";
  let port = 0;
  const settings = {
    listen_addresses: host,
    unix_socket_directories: socketDir,
    max_connections: "200",
    ...(options.fast === true ? { fsync: "off", synchronous_commit: "off", full_page_writes: "off" } : {}),
    ...options.settings,
  };
  const serverArgs = () => [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(" ");
  const pgCtl = (...args: string[]) => runAs(path.join(bin, "pg_ctl"), ["-D", dataDir, "-w", "-t", String(PG_CTL_WAIT_S), ...args]);
  let running = false;

  try {
    await runAs(path.join(bin, "initdb"), ["-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"]);
    // A port found free may be taken by the time the server binds it: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await pgCtl("-l", logFile, "-o", serverArgs(), "start");
        running = true;
        break;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  } catch (error) {
    const log = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-2000) : "";
    rmSync(root, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${(error as Error).message.trim()}${log === "" ? "" : `\n${log}`}`);
  }

  const url = (database = "postgres") => `postgres://postgres@${host}:${port}/${database}`;
  let databases = 0;
  return {
    host,
    port,
    url,
    async createDatabase(name = `test_${process.pid}_${++databases}`) {
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async restart() {
      // -l here too: without it the new server inherits pg_ctl's stdout, and execFile waits for that
      // pipe to close, i.e. until the server stops.
      await pgCtl("-m", "fast", "-l", logFile, "-o", serverArgs(), "restart");
      running = true;
    },
    async stop() {
      await pgCtl("-m", "fast", "stop");
      running = false;
    },
    async start() {
      await pgCtl("-l", logFile, "-o", serverArgs(), "start");
      running = true;
    },
    async destroy() {
      if (running) await pgCtl("-m", "immediate", "stop").catch(() => undefined);
      running = false;
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * A cluster for this test file, torn down with it; undefined (and the file skipped, saying why)
 * when PostgreSQL cannot start here. With CI set, not starting is a failure: CI must run these tests.
 */
export async function postgresForTests(t: Test, options: StartOptions = { fast: true }): Promise<PostgresCluster | undefined> {
  let cluster: PostgresCluster;
  try {
    cluster = await startPostgres(options);
  } catch (error) {
    const reason = `PostgreSQL is not available: ${(error as Error).message}`;
    if (process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false") {
      t.fail(`${reason} (CI is set, so these tests must run: .ci/run installs PostgreSQL)`);
      return undefined;
    }
    t.plan(0, reason);
    return undefined;
  }
  t.teardown(() => cluster.destroy());
  return cluster;
}
