import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { root } from "../helpers/app.js";
import { freePort } from "../helpers/free-port.js";

/** Shared by the kits' tests: temp folders laid out like each platform's, and running a kit's script. */

/** A temp folder standing for a platform's root (/autograder, /grade, /shared), removed after the test. */
export function tempDir(t: { teardown: (f: () => void) => void }, prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `gradebox-${prefix}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Copies a kit's script and the shared client into a folder, as the kit's Dockerfile does (a hidden folder of the layout, which the kit never reads). */
export function installKit(kit: "prairielearn" | "coursera", dir: string): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(root, "integrations", "common", "gradebox-client.mjs"), path.join(dir, "gradebox-client.mjs"));
  copyFileSync(path.join(root, "integrations", kit, `${kit}.mjs`), path.join(dir, `${kit}.mjs`));
  return path.join(dir, `${kit}.mjs`);
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr });
    });
  });
}

/**
 * A loopback proxy in front of gradebox that remembers each request's Authorization header: how the
 * tests see that a kit sends its API key.
 */
export async function recordingProxy(upstream: string): Promise<{ url: string; authorizations: Array<string | undefined>; close: () => Promise<void> }> {
  const authorizations: Array<string | undefined> = [];
  const target = new URL(upstream);
  const server = http.createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    const forward = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, authorizations, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A loopback address where nothing listens: a port just bound and released. */
export async function deadUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}
