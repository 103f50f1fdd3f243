import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { SaxesParser } from "saxes";

/**
 * A fake XQueue server, faithful to XQueue's own source (openedx/xqueue: submission_queue/views.py,
 * ext_interface.py, models.py, urls.py) in what a pull grader sees: the paths under /xqueue/, the
 * Django session from login, login_required's redirect to /xqueue/login/, the envelope
 * {return_code, content} and its exact messages, get_submission's pullkey and its re-issue after the
 * processing delay, and put_result's checks (POST only, xqueue_header and xqueue_body present, the
 * header a JSON object with submission_id and submission_key, the submission existing, the key
 * matching its latest pullkey). Delivering to the LMS is replaced by the LMS's own check of the reply
 * (xmodule capa's CodeResponse._parse_score_msg): JSON, a dict with correct, score and msg, and msg
 * parsing as XML.
 */
export interface FakeSubmission {
  id: number;
  queue: string;
  body: string;
  pullkey: string;
  pullTime: number | null;
  retired: boolean;
  graderReply: string | null;
  /** Whether the LMS would have accepted the reply ("Invalid grader reply" otherwise). */
  lmsAck: boolean;
  puts: number;
}

function reply(res: http.ServerResponse, success: boolean, content: unknown): void {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(JSON.stringify({ return_code: success ? 0 : 1, content }));
}

/** The LMS's check of a grader's reply (capa's _parse_score_msg), with a strict XML parser for lxml. */
export function lmsAccepts(scoreMsg: string): boolean {
  let result: unknown;
  try {
    result = JSON.parse(scoreMsg);
  } catch {
    return false;
  }
  if (typeof result !== "object" || result === null || Array.isArray(result)) return false;
  for (const tag of ["correct", "score", "msg"]) if (!(tag in result)) return false;
  const msg = String((result as { msg: unknown }).msg);
  if (msg === "") return false;
  let ok = true;
  const parser = new SaxesParser();
  parser.on("error", () => {
    ok = false;
  });
  parser.write(msg).close();
  return ok;
}

export class FakeXqueue {
  readonly submissions: FakeSubmission[] = [];
  private readonly sessions = new Set<string>();
  private server: http.Server | undefined;
  private nextId = 1;
  /** When true, every request fails as if XQueue were down (the connection is dropped). */
  down = false;
  url = "";
  port = 0;
  logins = 0;

  constructor(
    private readonly users: Record<string, string>,
    private readonly queues: string[],
    /** XQueue's SUBMISSION_PROCESSING_DELAY: a pulled submission is handed out again after it. */
    private readonly processingDelayMs = 60_000,
  ) {}

  /** What the LMS's submit view would queue: xqueue_body is JSON text with student_response and grader_payload. */
  submit(queue: string, studentResponse: string, graderPayload: string): FakeSubmission {
    const submission: FakeSubmission = {
      id: this.nextId++,
      queue,
      body: JSON.stringify({ student_info: JSON.stringify({ anonymous_student_id: "a1b2", submission_time: "20261130120000" }), student_response: studentResponse, grader_payload: graderPayload }),
      pullkey: "",
      pullTime: null,
      retired: false,
      graderReply: null,
      lmsAck: false,
      puts: 0,
    };
    this.submissions.push(submission);
    return submission;
  }

  /** Forgets every session, as a restarted XQueue with a fresh session store would. */
  expireSessions(): void {
    this.sessions.clear();
  }

  private available(queue: string): FakeSubmission[] {
    const now = Date.now();
    return this.submissions.filter((s) => s.queue === queue && !s.retired && (s.pullTime === null || now - s.pullTime >= this.processingDelayMs));
  }

  private loggedIn(req: http.IncomingMessage): boolean {
    const cookie = /(?:^|;\s*)sessionid=([^;]+)/.exec(req.headers.cookie ?? "");
    return cookie !== null && this.sessions.has(cookie[1] ?? "");
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, form: URLSearchParams): void {
    const url = new URL(req.url ?? "/", "http://xqueue");
    const route = url.pathname;
    if (route === "/xqueue/login/") {
      if (req.method !== "POST") return reply(res, false, "login_required");
      // XQueue checks `'username' and 'password' in p`, which tests only 'password'.
      if (!form.has("password")) return reply(res, false, "Insufficient login info");
      if (this.users[form.get("username") ?? ""] !== form.get("password")) return reply(res, false, "Incorrect login credentials");
      const session = randomBytes(16).toString("hex");
      this.sessions.add(session);
      this.logins += 1;
      res.setHeader("set-cookie", `sessionid=${session}; HttpOnly; Path=/; SameSite=Lax`);
      return reply(res, true, "Logged in");
    }
    if (route === "/xqueue/status/") return reply(res, true, "OK");
    if (!["/xqueue/get_queuelen/", "/xqueue/get_submission/", "/xqueue/put_result/"].includes(route)) {
      res.writeHead(404).end("Not Found");
      return;
    }
    // Django's login_required: a redirect to LOGIN_URL with next=.
    if (!this.loggedIn(req)) {
      res.writeHead(302, { location: `/xqueue/login/?next=${encodeURIComponent(url.pathname + url.search)}` }).end();
      return;
    }
    if (route === "/xqueue/get_queuelen/") {
      const queue = url.searchParams.get("queue_name");
      if (queue === null) return reply(res, false, "'get_queuelen' must provide parameter 'queue_name'");
      if (!this.queues.includes(queue)) return reply(res, false, `Valid queue names are: ${this.queues.join(", ")}`);
      return reply(res, true, this.available(queue).length);
    }
    if (route === "/xqueue/get_submission/") {
      const queue = url.searchParams.get("queue_name");
      if (queue === null) return reply(res, false, "'get_submission' must provide parameter 'queue_name'");
      if (!this.queues.includes(queue)) return reply(res, false, `Queue '${queue}' not found`);
      const submission = this.available(queue)[0];
      if (submission === undefined) return reply(res, false, `Queue '${queue}' is empty`);
      submission.pullTime = Date.now();
      submission.pullkey = createHash("md5").update(`${new Date(submission.pullTime).toISOString()}${submission.id}`).digest("hex");
      const header = { submission_id: submission.id, submission_key: submission.pullkey };
      return reply(res, true, JSON.stringify({ xqueue_header: JSON.stringify(header), xqueue_body: submission.body, xqueue_files: "{}" }));
    }
    // put_result
    if (req.method !== "POST") return reply(res, false, "'put_result' must use HTTP POST");
    const header = form.get("xqueue_header");
    const body = form.get("xqueue_body");
    if (header === null || body === null) return reply(res, false, "Incorrect reply format");
    let parsed: unknown;
    try {
      parsed = JSON.parse(header);
    } catch {
      return reply(res, false, "Incorrect reply format");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || !("submission_id" in parsed) || !("submission_key" in parsed)) return reply(res, false, "Incorrect reply format");
    const { submission_id: id, submission_key: key } = parsed as { submission_id: unknown; submission_key: unknown };
    const submission = this.submissions.find((s) => s.id === Number.parseInt(String(id), 10));
    if (submission === undefined) return reply(res, false, "Submission does not exist");
    if (submission.pullkey === "" || key !== submission.pullkey) return reply(res, false, "Incorrect key for submission");
    submission.graderReply = body;
    submission.lmsAck = lmsAccepts(body);
    submission.retired = submission.lmsAck;
    submission.puts += 1;
    return reply(res, true, "");
  }

  async start(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => {
      if (this.down) {
        req.socket.destroy();
        return;
      }
      let data = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (data += chunk));
      req.on("end", () => this.handle(req, res, new URLSearchParams(req.method === "POST" ? data : "")));
    });
    await new Promise<void>((resolve) => this.server?.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
