import type { Logger } from "pino";
import { escapeHtml } from "../formats/common.js";
import { xmlChars } from "../formats/xqueue.js";
import type { XqueueConfig } from "./config.js";
import { Spool, type SpooledSubmission } from "./spool.js";
import { XqueueClient, XqueueDown, XqueueRefused, type XqueueReply } from "./xqueue-client.js";

/** gradebox could not answer (network, timeout, 5xx, 429): the submission waits in the spool. */
export class GradeboxDown extends Error {
  override name = "GradeboxDown";
}

/** A reply that tells the student why there is no grade, as XML-safe HTML. */
function problemReply(text: string): XqueueReply {
  return { correct: false, score: 0, msg: `<div class="gradebox-feedback"><p>${escapeHtml(xmlChars(text))}</p></div>` };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/**
 * gradebox-xqueue: pulls an Open edX queue, grades each submission through gradebox (?format=xqueue)
 * and posts the result back with the header echoed. A replacement for xqueue-watcher that never
 * loses a submission it pulled (see Spool) and backs off while XQueue or gradebox is down.
 */
export class XqueueConnector {
  readonly xqueue: XqueueClient;
  readonly spool: Spool;
  /** Consecutive failures, for the back-off; visible for the logs and tests. */
  failures = 0;
  graded = 0;

  constructor(private readonly config: XqueueConfig, private readonly log: Logger) {
    this.xqueue = new XqueueClient({ url: config.xqueueUrl, username: config.username, password: config.password, timeoutMs: config.xqueueTimeoutMs });
    this.spool = new Spool(config.spool);
  }

  /**
   * One round: first what the spool holds (left by a crash or an outage), then one submission from
   * the queue. "idle" when there was nothing to do. Throws XqueueDown or GradeboxDown.
   */
  async step(): Promise<"idle" | "worked"> {
    let worked = false;
    for (const entry of this.spool.pending()) {
      await this.finish(entry);
      worked = true;
    }
    if ((await this.xqueue.queueLength(this.config.queue)) === 0) return worked ? "worked" : "idle";
    const pulled = await this.xqueue.getSubmission(this.config.queue);
    if (pulled === undefined) return worked ? "worked" : "idle";
    // Written before anything else happens to it: from here on a crash loses nothing.
    this.spool.add(pulled.xqueue_header, pulled.xqueue_body, pulled.xqueue_files);
    await this.finish({ header: pulled.xqueue_header, body: pulled.xqueue_body, files: pulled.xqueue_files, reply: null, pulledAt: Date.now() });
    return "worked";
  }

  /**
   * Runs until the signal aborts, pausing XQUEUE_POLL_MS on an empty queue and doubling the pause on
   * each failure. There is no separate login: the first request is redirected to XQueue's login page
   * and the client logs in then. Refusals (wrong credentials, an unknown queue, XQueue's "please try
   * again") back off like outages: an administrator can fix them on XQueue's side without a restart.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let pause = 0;
      try {
        if ((await this.step()) === "idle") pause = this.config.pollMs;
        this.failures = 0;
      } catch (error) {
        if (!(error instanceof XqueueDown || error instanceof GradeboxDown || error instanceof XqueueRefused)) throw error;
        this.failures += 1;
        pause = Math.min(this.config.backoffMaxMs, this.config.pollMs * 2 ** Math.min(this.failures, 30));
        this.log.warn({ err: error.message, failures: this.failures, pauseMs: pause, spooled: this.spool.pending().length }, "xqueue: backing off");
      }
      await sleep(pause, signal);
    }
  }

  private async finish(entry: SpooledSubmission): Promise<void> {
    let reply = entry.reply;
    if (reply === null) {
      reply = JSON.stringify(await this.grade(entry));
      this.spool.setReply(entry.header, reply);
    }
    try {
      await this.xqueue.putResult(entry.header, JSON.parse(reply) as XqueueReply);
      this.graded += 1;
      this.log.info({ header: entry.header }, "xqueue: result accepted");
    } catch (error) {
      if (!(error instanceof XqueueRefused)) throw error;
      // XQueue will never take this result (the submission was handed to another grader after
      // XQueue's processing delay, or it is gone): keeping it would block the spool for ever.
      this.log.warn({ header: entry.header, refusal: error.message }, "xqueue: result refused, dropped");
    }
    this.spool.remove(entry.header);
  }

  private async grade(entry: SpooledSubmission): Promise<XqueueReply> {
    let body: { student_response?: unknown; grader_payload?: unknown };
    try {
      body = JSON.parse(entry.body) as typeof body;
    } catch {
      return problemReply("This submission could not be read (its XQueue body is not JSON). Please tell your instructor.");
    }
    const payload = typeof body.grader_payload === "string" ? body.grader_payload.trim() : "";
    const assignment = this.config.assignments[payload] ?? this.config.defaultAssignment;
    if (assignment === "") return problemReply(`This problem is not set up for grading (no assignment for grader_payload "${payload}"). Please tell your instructor.`);
    const header = JSON.parse(entry.header) as { submission_id?: unknown; submission_key?: unknown };
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.config.apiKey !== "") headers.authorization = `Bearer ${this.config.apiKey}`;
    let response: Response;
    try {
      response = await fetch(`${this.config.gradeboxUrl}/v1/submissions?format=xqueue`, {
        method: "POST",
        headers,
        // The submission id makes a regrade after a crash between grading and spooling the reply an idempotent replay.
        body: JSON.stringify({ assignment, source: String(body.student_response ?? ""), submissionId: `xqueue-${String(header.submission_id)}-${String(header.submission_key)}` }),
        signal: AbortSignal.timeout(this.config.gradeboxTimeoutMs),
      });
    } catch (error) {
      throw new GradeboxDown(`gradebox at ${this.config.gradeboxUrl} could not be reached: ${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name}`);
    }
    const text = await response.text();
    if (response.ok) return JSON.parse(text) as XqueueReply;
    if (response.status === 429 || response.status >= 500) throw new GradeboxDown(`gradebox answered ${response.status}`);
    // A refusal (the source is too large, the assignment does not exist, the key is wrong): the student is told, not left waiting.
    let message = `gradebox answered ${response.status}`;
    try {
      const error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      if (error?.message !== undefined) message = `${error.message} (${error.code ?? response.status})`;
    } catch {
      // not JSON
    }
    return problemReply(`This submission could not be graded: ${message}`);
  }

  close(): void {
    this.spool.close();
  }
}
