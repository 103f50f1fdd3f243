/**
 * `npm run bench:budgets`: the time to verdict of hostile submissions that loop, with budgets learnt from the
 * reference (BUDGETS=learnt, the default) and without them (BUDGETS=off: only CALL_TIMEOUT_MS and
 * EVAL_TIMEOUT_MS stop a loop), in one run (issue #18, section 2). For each setting the service is started in
 * this process (bench/lib.ts), and each submission is sent alone on an idle service N times (HTTP round trip):
 *   - an export that loops (forward_propagation when x is 2: two calls reach it), as in `npm run bench`;
 *   - a top-level infinite loop;
 *   - the reference, for scale.
 * The settings alternate for R rounds so that the machine's drift falls on both.
 *
 *   --n N       submissions of each kind per setting and round (default 5)
 *   --rounds R  rounds (default 2)
 */
import { honest, loopAtTopLevel, loopInExport, type Kind } from "./hostile.js";
import { fixed, numberArg, parseArgs, sleep, startService, submissionBody, summarize, table, type Service } from "./lib.js";
import type { Feedback } from "../src/grading/feedback.js";
import type { SandboxPool } from "../src/sandbox/pool.js";

const args = parseArgs(process.argv.slice(2));
const n = numberArg(args, "n", 5);
const rounds = numberArg(args, "rounds", 2);
const settings = ["off", "learnt"] as const;
const kinds: Kind[] = [loopInExport, loopAtTopLevel, honest];

async function idle(service: Service): Promise<void> {
  const pool = (service.inner as unknown as { sandbox: SandboxPool }).sandbox;
  const until = performance.now() + 30_000;
  while (performance.now() < until) {
    const s = pool.stats();
    if (s.ready === service.config.workers && s.busy === 0 && s.queued === 0) return;
    await sleep(20);
  }
}

const times = new Map<string, number[]>();
const verdicts = new Map<string, Set<string>>();
for (let round = 1; round <= rounds; round++) {
  for (const setting of settings) {
    process.env.BUDGETS = setting;
    process.stderr.write(`[bench:budgets] round ${round}, BUDGETS=${setting}\n`);
    const service = await startService();
    try {
      for (const kind of kinds) {
        for (let i = 0; i < n; i++) {
          await idle(service);
          const started = performance.now();
          const response = await fetch(`http://127.0.0.1:${service.port}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json" }, body: submissionBody(kind.source(i)) });
          const text = await response.text();
          const ms = performance.now() - started;
          const key = `${setting}\0${kind.id}`;
          times.set(key, [...(times.get(key) ?? []), ms]);
          const feedback = response.status === 200 ? (JSON.parse(text) as Feedback) : undefined;
          verdicts.set(key, (verdicts.get(key) ?? new Set()).add(kind.verdict({ status: response.status, ms, ...(feedback !== undefined ? { feedback } : { error: text.slice(0, 200) }) })));
        }
      }
    } finally {
      await service.close();
    }
  }
}

const rows = kinds.flatMap((kind) => settings.map((setting) => {
  const key = `${setting}\0${kind.id}`;
  const s = summarize(times.get(key) ?? []);
  return [kind.name, `BUDGETS=${setting}`, `${fixed(s.p50, 0)} / ${fixed(s.max, 0)}`, [...(verdicts.get(key) ?? [])].join("; ")];
}));
process.stdout.write(`Time to verdict, alone on an idle service (${n} × ${rounds} each; HTTP round trip, ms)\n`);
process.stdout.write(`${table(["submission", "setting", "p50 / max ms", "verdicts (expected: as in npm run bench)"], rows)}\n`);
