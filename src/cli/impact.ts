import path from "node:path";
import { isDirectory, readPackDir } from "../packs/pack-files.js";
import type { RegradeChangeView } from "../regrades/views.js";

/**
 * `gradebox-pack impact <pack-dir> --server URL --token T`: previews what a changed pack would do to
 * the stored submissions. It sends the folder as a draft to the service's dry-run regrade (the
 * service validates and self-tests it, grades the stored submissions against it and stores nothing),
 * waits for it, and prints the summary and the first changes.
 */

export interface ImpactOptions {
  dir: string;
  server: string;
  token: string;
  /** The assignment id on the server (default: the folder's name). */
  assignment?: string;
  scope: "latest" | "all";
  /** Changes printed (the rest are counted). */
  first: number;
  json: boolean;
  /** Between two looks at the regrade's progress. */
  pollMs?: number;
  write: (line?: string) => void;
}

interface RegradeAnswer {
  id: string;
  assignment: string;
  version: string;
  scope: string;
  status: string;
  total: number;
  done: number;
  counts: Record<"improved" | "worsened" | "unchanged" | "errored", number>;
  error: string | null;
  changes: RegradeChangeView[];
  perExercise: Record<string, number>;
  perCase: Record<string, number>;
}

/** A failure the instructor can act on (the server said no, or cannot be reached): exit code 1. */
export class ImpactError extends Error {}

async function call(url: string, token: string, init: { method?: string; body?: unknown } = {}): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${token}`, ...(init.body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  } catch (error) {
    throw new ImpactError(`cannot reach ${url}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`);
  }
  const body = await response.json().catch(() => undefined) as { error?: { code: string; message: string; details?: { problems?: Array<{ file?: string; path?: string; message: string }> } } } | undefined;
  if (!response.ok) {
    const error = body?.error;
    const problems = (error?.details?.problems ?? []).map((p) => `\n  ${[p.file, p.path].filter((x) => x !== undefined && x !== "").join(" ")}: ${p.message}`).join("");
    throw new ImpactError(`${response.status} ${error?.code ?? ""}: ${error?.message ?? "the server's answer was not JSON"}${problems}`);
  }
  return body;
}

function scoreText(s: { score: number; maxScore: number }): string {
  return `${s.score}/${s.maxScore}`;
}

function tallyText(tally: Record<string, number>): string {
  const entries = Object.entries(tally).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return entries.length === 0 ? "none" : entries.map(([name, n]) => `${name} ${n}`).join(", ");
}

/** Prints the preview's summary and its first changes. */
export function printImpact(answer: RegradeAnswer, first: number, write: (line?: string) => void): void {
  write(`Impact on ${answer.assignment} (draft version ${answer.version}, scope ${answer.scope}): ${answer.done} of ${answer.total} submissions graded, ${answer.status}`);
  if (answer.error !== null) write(`  ${answer.error}`);
  for (const outcome of ["improved", "worsened", "unchanged", "errored"] as const) write(`  ${outcome.padEnd(10)} ${String(answer.counts[outcome]).padStart(5)}`);
  write(`Exercises whose score moves: ${tallyText(answer.perExercise)}`);
  write(`Cases whose status moves: ${tallyText(answer.perCase)}`);
  if (answer.changes.length === 0) return;
  // Moved scores first (worsened, then improved): they are what an instructor has to explain.
  const rank = { worsened: 0, improved: 1, unchanged: 2, errored: 3 } as const;
  const changes = [...answer.changes].sort((a, b) => rank[a.outcome] - rank[b.outcome]);
  write(`First changes (${Math.min(first, changes.length)} of ${changes.length}, moved scores first):`);
  for (const change of changes.slice(0, first)) {
    const exercises = change.exercises.map((e) => `${e.name} ${e.before ?? "-"} -> ${e.after ?? "-"}`).join("; ");
    write(`  ${change.submission}  ${change.student ?? "(no student)"}  ${change.outcome}  ${scoreText(change.before)} -> ${scoreText(change.after)}${exercises !== "" ? `  [${exercises}]` : ""}${change.cases.length > 0 ? `  cases: ${change.cases.join(", ")}` : ""}`);
  }
  if (changes.length > first) write(`  … and ${changes.length - first} more: GET /v1/regrades/${answer.id}?format=csv`);
}

/** Runs the preview; resolves with the exit code (0 done, 1 failed or cancelled). */
export async function impact(options: ImpactOptions): Promise<number> {
  if (!(await isDirectory(options.dir))) throw new ImpactError(`${options.dir} is not a folder`);
  const files = Object.fromEntries(await readPackDir(options.dir));
  const assignment = options.assignment ?? path.basename(path.resolve(options.dir));
  const server = options.server.replace(/\/+$/, "");
  const started = await call(`${server}/v1/assignments/${encodeURIComponent(assignment)}/regrades`, options.token, { method: "POST", body: { dryRun: true, scope: options.scope, pack: { files } } }) as RegradeAnswer;
  let answer = started;
  while (answer.status === "running") {
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
    answer = await call(`${server}/v1/regrades/${started.id}`, options.token) as RegradeAnswer;
  }
  if (options.json) options.write(JSON.stringify(answer, null, 2));
  else printImpact(answer, options.first, options.write);
  return answer.status === "done" ? 0 : 1;
}
