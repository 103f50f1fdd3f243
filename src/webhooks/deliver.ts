import http from "node:http";
import https from "node:https";

/** The most of a receiver's answer that is read (and discarded): a receiver cannot make us buffer more. */
export const ANSWER_READ_BYTES = 4096;

export interface DeliveryResult {
  /** The receiver's HTTP status, or null when there was none (refused, timed out). */
  status: number | null;
  error: string | null;
}

/**
 * POSTs one signed webhook. Redirects are never followed (a 3xx is a failed attempt: following one
 * would let a listed host send us anywhere). The whole exchange, from connecting to the end of the
 * (at most 4 KiB) answer, must fit in `timeoutMs`.
 */
export function deliver(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<DeliveryResult> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const client = target.protocol === "https:" ? https : http;
    let settled = false;
    const done = (result: DeliveryResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const request = client.request(target, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), "user-agent": "gradebox-webhooks" },
      // A fresh connection each time: no pooled socket outlives the timeout or leaks between receivers.
      agent: false,
    });
    const timer = setTimeout(() => {
      request.destroy();
      done({ status: null, error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    request.on("error", (error) => done({ status: null, error: error.message.slice(0, 200) }));
    request.on("response", (response) => {
      const status = response.statusCode ?? null;
      let read = 0;
      response.on("data", (chunk: Buffer) => {
        read += chunk.length;
        if (read >= ANSWER_READ_BYTES) {
          response.destroy();
          done({ status, error: null });
        }
      });
      response.on("end", () => done({ status, error: null }));
      response.on("error", () => done({ status, error: null }));
    });
    request.end(body);
  });
}
