/**
 * The grader's side of XQueue's pull interface, as XQueue's own source defines it
 * (submission_queue/views.py and ext_interface.py): a Django session from POST /xqueue/login/, then
 * GET /xqueue/get_queuelen/, GET /xqueue/get_submission/ and POST /xqueue/put_result/. Every answer
 * is the JSON envelope {return_code: 0 (success) or 1, content}; a view behind login_required answers
 * a request without a session with a redirect to the login page.
 */

/** XQueue could not be reached or answered outside its protocol: worth retrying later. */
export class XqueueDown extends Error {
  override name = "XqueueDown";
}

/** XQueue answered return_code 1: content says why. */
export class XqueueRefused extends Error {
  override name = "XqueueRefused";
}

/** What get_submission hands a grader; each field is itself JSON text, kept as received. */
export interface PulledSubmission {
  xqueue_header: string;
  xqueue_body: string;
  xqueue_files: string;
}

export interface XqueueReply {
  correct: boolean;
  score: number;
  msg: string;
}

export class XqueueClient {
  private cookie = "";

  constructor(private readonly options: { url: string; username: string; password: string; timeoutMs: number }) {}

  private async call(method: "GET" | "POST", endpoint: string, params: Record<string, string>, retryLogin = true): Promise<unknown> {
    const query = new URLSearchParams(params).toString();
    const url = `${this.options.url}/xqueue/${endpoint}/${method === "GET" ? `?${query}` : ""}`;
    const headers: Record<string, string> = {};
    if (this.cookie !== "") headers.cookie = this.cookie;
    if (method === "POST") headers["content-type"] = "application/x-www-form-urlencoded";
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: method === "POST" ? query : undefined, redirect: "manual", signal: AbortSignal.timeout(this.options.timeoutMs) });
    } catch (error) {
      throw new XqueueDown(`XQueue at ${this.options.url} could not be reached: ${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name}`);
    }
    const text = await response.text();
    const setCookie = response.headers.getSetCookie().map((c) => c.split(";")[0]).filter((c) => c !== undefined && c.startsWith("sessionid="));
    if (setCookie.length > 0) this.cookie = setCookie.join("; ");
    // login_required redirects to the login page: the session is gone (expired, or XQueue restarted).
    if (response.status >= 300 && response.status < 400 && endpoint !== "login") {
      if (!retryLogin) throw new XqueueDown(`XQueue keeps asking ${endpoint} to log in`);
      await this.login();
      return this.call(method, endpoint, params, false);
    }
    if (response.status !== 200) throw new XqueueDown(`XQueue answered ${endpoint} with HTTP ${response.status}`);
    let envelope: { return_code?: unknown; content?: unknown };
    try {
      envelope = JSON.parse(text) as typeof envelope;
    } catch {
      throw new XqueueDown(`XQueue answered ${endpoint} with something that is not its JSON envelope`);
    }
    if (envelope.return_code === 0) return envelope.content;
    if (envelope.return_code === 1) {
      if (envelope.content === "login_required" && retryLogin && endpoint !== "login") {
        await this.login();
        return this.call(method, endpoint, params, false);
      }
      throw new XqueueRefused(String(envelope.content));
    }
    throw new XqueueDown(`XQueue answered ${endpoint} with return_code ${String(envelope.return_code)}`);
  }

  async login(): Promise<void> {
    this.cookie = "";
    await this.call("POST", "login", { username: this.options.username, password: this.options.password }, false);
  }

  async queueLength(queue: string): Promise<number> {
    const content = await this.call("GET", "get_queuelen", { queue_name: queue });
    if (typeof content !== "number") throw new XqueueDown("get_queuelen's content is not a number");
    return content;
  }

  /** The oldest submission of the queue, or undefined when it is empty. */
  async getSubmission(queue: string): Promise<PulledSubmission | undefined> {
    let content: unknown;
    try {
      content = await this.call("GET", "get_submission", { queue_name: queue });
    } catch (error) {
      // XQueue says "Queue '<name>' is empty" with return_code 1: no submission, not a failure.
      if (error instanceof XqueueRefused && /is empty/.test(error.message)) return undefined;
      throw error;
    }
    const payload = JSON.parse(String(content)) as Partial<PulledSubmission>;
    if (typeof payload.xqueue_header !== "string" || typeof payload.xqueue_body !== "string") throw new XqueueDown("get_submission's content lacks xqueue_header or xqueue_body");
    return { xqueue_header: payload.xqueue_header, xqueue_body: payload.xqueue_body, xqueue_files: typeof payload.xqueue_files === "string" ? payload.xqueue_files : "{}" };
  }

  /** Posts a result with the header echoed exactly as get_submission gave it. */
  async putResult(header: string, reply: XqueueReply): Promise<void> {
    await this.call("POST", "put_result", { xqueue_header: header, xqueue_body: JSON.stringify(reply) });
  }
}
