import { EventEmitter } from "node:events";
import pg from "pg";
import type { StoreEvent } from "../store.js";
import { CHANNEL, listen } from "./queries.js";

/** First pause before listening again after the connection was lost, and the longest pause. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/**
 * The store's wake-ups on PostgreSQL: one dedicated connection (not a pooled one: LISTEN belongs to a
 * session) that LISTENs on the store's channel and turns each notification into a StoreEvent. Every
 * node's changes arrive here, this node's own included, after they commit.
 *
 * When the connection is lost (a restart, a network cut), notifications sent meanwhile are lost with
 * it: the listener reconnects with backoff and, once listening again, emits `resync` so that nodes
 * look at the store again instead of waiting for an event that already went by.
 */
export class Listener {
  private readonly events = new EventEmitter();
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private delayMs = RECONNECT_FIRST_MS;
  private started = false;
  private closed = false;
  /** Whether a connection listened before: the first one needs no resync (nothing was missed yet). */
  private listenedBefore = false;

  constructor(private readonly url: string, private readonly onError: (error: Error) => void = () => undefined) {
    this.events.setMaxListeners(0);
  }

  /**
   * Connects and resolves once listening. The store does this when it opens, so that a subscriber
   * hears every change committed after it subscribed.
   */
  async start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      void this.connect();
    }
    if (this.client !== undefined) return;
    await new Promise<void>((resolve) => this.events.once("listening", resolve));
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.events.on("event", listener);
    return () => this.events.off("event", listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.events.removeAllListeners();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url });
    // A lost connection emits 'error' (and then 'end'); unhandled, 'error' would end the process.
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      if (error !== undefined) this.onError(error);
      client.end().catch(() => undefined);
      this.retry();
    };
    client.on("error", onLost);
    client.on("end", () => onLost());
    client.on("notification", (message) => {
      if (message.channel !== CHANNEL) return;
      const event = parse(message.payload);
      if (event !== undefined) this.emit(event);
    });
    try {
      await client.connect();
      await client.query(listen);
    } catch (error) {
      onLost(error as Error);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.delayMs = RECONNECT_FIRST_MS;
    if (this.listenedBefore) this.emit({ kind: "resync" });
    this.listenedBefore = true;
    this.events.emit("listening");
  }

  private retry(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    const delay = this.delayMs * (0.5 + Math.random() / 2);
    this.delayMs = Math.min(RECONNECT_MAX_MS, this.delayMs * 2);
    this.timer = setTimeout(() => void this.connect(), delay);
    this.timer.unref();
  }

  private emit(event: StoreEvent): void {
    // A listener must not throw (the interface says so); if one does, the others still hear.
    for (const listener of this.events.listeners("event") as Array<(event: StoreEvent) => void>) {
      try {
        listener(event);
      } catch (error) {
        this.onError(error as Error);
      }
    }
  }
}

function parse(payload: string | undefined): StoreEvent | undefined {
  if (payload === "q") return { kind: "queued" };
  if (payload?.startsWith("f:") === true) return { kind: "finished", id: payload.slice(2) };
  if (payload?.startsWith("p:") === true) return { kind: "pack", id: payload.slice(2) };
  return undefined;
}
