import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import type { Test } from "tap";

/**
 * A course platform's webhook endpoint on loopback, for the tests: it keeps every request, verifies
 * each one's Standard Webhooks signature with the same package a receiver would use, and counts the
 * correctly signed deliveries per submission. The service under test is pointed at it with
 * `WEBHOOK_SECRET: receiver.secret` and `CALLBACK_HOSTS: receiver.host`.
 */

export interface ReceivedRequest {
  path: string;
  /** As received; Standard Webhooks' verify() takes them as a record of strings. */
  headers: Record<string, string>;
  body: string;
  /** Whether the signature verified with the receiver's secret. */
  signed: boolean;
}

/** What a correctly signed delivery carries (gradebox's events all name the submission in data.id). */
export interface SignedPayload {
  type: string;
  timestamp: string;
  data: { id: string } & Record<string, unknown>;
}

/** The correctly signed deliveries of one submission. */
export interface Delivered {
  count: number;
  /** Every webhook-id header they carried: one event has one id over all its retries. */
  webhookIds: Set<string>;
  payloads: SignedPayload[];
}

export interface WebhookReceiver {
  /** Base URL, e.g. http://127.0.0.1:PORT: callbacks go to `${url}/anything`. */
  url: string;
  port: number;
  /** `127.0.0.1:PORT`, for CALLBACK_HOSTS. */
  host: string;
  /** The signing secret (whsec_…), for WEBHOOK_SECRET. */
  secret: string;
  /** Every request in order of arrival, signed or not. */
  received: ReceivedRequest[];
  /** Per submission id (data.id): its correctly signed deliveries. */
  delivered: Map<string, Delivered>;
  /** Requests whose signature did not verify with the secret. */
  badSignatures(): number;
}

export interface ReceiverOptions {
  /** The signing secret; a new random one by default. */
  secret?: string;
  /** How to answer a request (after it is recorded); by default 204, which the service counts as delivered. */
  answer?: (request: ReceivedRequest, res: http.ServerResponse) => void;
}

/** Starts a receiver on a free loopback port, closed (with any connection left open) when `t` ends. */
export async function webhookReceiver(t: Test, options: ReceiverOptions = {}): Promise<WebhookReceiver> {
  const secret = options.secret ?? `whsec_${randomBytes(24).toString("base64")}`;
  const verifier = new Webhook(secret);
  const received: ReceivedRequest[] = [];
  const delivered = new Map<string, Delivered>();
  let badSignatures = 0;
  const answer = options.answer ?? ((_request, res) => res.writeHead(204).end());
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => { body += chunk; });
    req.on("end", () => {
      const headers = req.headers as Record<string, string>;
      let payload: SignedPayload | undefined;
      try {
        payload = verifier.verify(body, headers) as SignedPayload;
      } catch {
        payload = undefined;
      }
      const request: ReceivedRequest = { path: req.url ?? "", headers, body, signed: payload !== undefined };
      received.push(request);
      if (payload === undefined) badSignatures++;
      else if (typeof payload.data?.id === "string") {
        const seen = delivered.get(payload.data.id) ?? { count: 0, webhookIds: new Set<string>(), payloads: [] };
        seen.count++;
        seen.webhookIds.add(String(headers["webhook-id"]));
        seen.payloads.push(payload);
        delivered.set(payload.data.id, seen);
      }
      answer(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  t.teardown(() => new Promise<void>((resolve) => {
    // A receiver that holds requests open (an `answer` that never answers) must not keep the test alive.
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    host: `127.0.0.1:${port}`,
    secret,
    received,
    delivered,
    badSignatures: () => badSignatures,
  };
}
