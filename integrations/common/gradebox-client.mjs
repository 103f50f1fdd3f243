// The part every kit shares: find the student's file, POST it to gradebox, retry what is worth
// retrying. Node 18 or later, no dependency: it runs inside each platform's grading container.
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";

const LANGUAGES = { ".mjs": "javascript", ".js": "javascript", ".ts": "typescript", ".mts": "typescript" };

/** The settings every kit reads from its environment. */
export function clientSettings(env = process.env) {
  return {
    url: (env.GRADEBOX_URL ?? "http://127.0.0.1:3000").replace(/\/+$/, ""),
    apiKey: env.GRADEBOX_API_KEY ?? "",
    assignment: env.GRADEBOX_ASSIGNMENT ?? "",
    file: env.GRADEBOX_FILE ?? "",
    timeoutMs: Number(env.GRADEBOX_TIMEOUT_MS ?? 120_000),
    attempts: Number(env.GRADEBOX_ATTEMPTS ?? 3),
  };
}

/**
 * The student's module in a folder: the file named by GRADEBOX_FILE, else the only .mjs/.js/.ts file
 * there. Throws a message for the student when there is none or more than one.
 */
export async function findSubmission(dir, wanted = "") {
  const names = wanted !== "" ? [wanted] : (await readdir(dir)).filter((n) => path.extname(n) in LANGUAGES).sort();
  if (names.length === 0) throw new Error(`No .mjs, .js or .ts file was submitted.`);
  if (names.length > 1) throw new Error(`Submit one module only; found: ${names.join(", ")}.`);
  const file = path.join(dir, names[0]);
  if (!(await stat(file)).isFile()) throw new Error(`${names[0]} is not a file.`);
  return { name: names[0], source: await readFile(file, "utf8"), language: LANGUAGES[path.extname(names[0])] ?? "javascript" };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * POSTs a submission and returns `{ok: true, body}` with the answer in the asked format, or
 * `{ok: false, unreachable, message}`: unreachable is true when the service could not answer (network
 * error, timeout, 5xx, 429), which the student can fix by resubmitting; false for a refusal (bad key,
 * unknown assignment), which only the course staff can fix.
 */
export async function grade({ settings, format, submission, submissionId }) {
  const body = JSON.stringify({
    assignment: settings.assignment,
    source: submission.source,
    language: submission.language,
    ...(submissionId !== undefined ? { submissionId } : {}),
  });
  const headers = { "content-type": "application/json" };
  if (settings.apiKey !== "") headers.authorization = `Bearer ${settings.apiKey}`;
  let last = "";
  for (let attempt = 1; attempt <= Math.max(1, settings.attempts); attempt++) {
    let retryAfterMs = 1000 * 2 ** (attempt - 1);
    try {
      const response = await fetch(`${settings.url}/v1/submissions?format=${format}`, { method: "POST", headers, body, signal: AbortSignal.timeout(settings.timeoutMs) });
      const text = await response.text();
      if (response.ok) return { ok: true, body: JSON.parse(text) };
      let detail = text.slice(0, 500);
      try {
        const error = JSON.parse(text).error;
        if (error?.code !== undefined) detail = `${error.code}: ${error.message}`;
      } catch {
        // not JSON: keep the text
      }
      last = `gradebox answered ${response.status} (${detail})`;
      if (response.status !== 429 && response.status < 500) return { ok: false, unreachable: false, message: last };
      const after = Number(response.headers.get("retry-after"));
      if (Number.isFinite(after) && after > 0) retryAfterMs = Math.min(after * 1000, 30_000);
    } catch (error) {
      last = `gradebox at ${settings.url} could not be reached (${error?.cause?.code ?? error?.name ?? "error"})`;
    }
    if (attempt < settings.attempts) await sleep(retryAfterMs);
  }
  return { ok: false, unreachable: true, message: last };
}
