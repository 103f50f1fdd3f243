import { Worker } from "node:worker_threads";
import type { Log } from "../logger.js";
import { threadCpuMs } from "../thread-cpu.js";
import { PoolError } from "../sandbox/pool.js";
import type { Stripped } from "./typescript.js";

/**
 * Strips TypeScript in a bounded pool of worker threads, so that the HTTP process's event loop never
 * parses a client's source. Parsing costs what the client makes it cost: some sources of 256 KiB take
 * the parser tens of seconds (long `as` or `satisfies` chains) or run it out of stack. Each source gets
 * `timeoutMs`; past it the thread is terminated and replaced, and the submission is rejected with an
 * `unsupported_typescript` verdict instead of stalling anyone else. The limit counts the thread's CPU
 * time (on Linux; elsewhere wall-clock time), so that a busy machine does not make an ordinary source
 * "too complex"; a thread starved of CPU still gets at most WALL_FACTOR times the limit in wall-clock
 * time, so the queue behind it moves. Sources wait in a queue of at
 * most `queueLength`; beyond it the pool refuses with queue_full, which the API answers 503 with
 * Retry-After, like the grading pool.
 */

export interface StripPoolOptions {
  threads: number;
  timeoutMs: number;
  queueLength: number;
  memoryMb: number;
  log?: Log;
}

interface Job {
  text: string;
  resolve: (result: Stripped) => void;
  reject: (error: Error) => void;
}

interface Lane {
  worker: Worker;
  ready: boolean;
  /** The thread's id, to read its CPU time; undefined where /proc is not available. */
  tid?: number;
  job?: { id: number; job: Job; timer: ReturnType<typeof setInterval>; startedAt: number; cpuAtStart?: number };
}

/** A thread starved of CPU is given up after this many times its limit in wall-clock time. */
const WALL_FACTOR = 10;

const THREAD_URL = new URL("./strip-thread.js", import.meta.url);

function refusal(message: string): Stripped {
  return { ok: false, outcome: { kind: "unsupported-typescript", message, line: 1, column: 1 } };
}

export class StripPool {
  private readonly lanes: Lane[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: StripPoolOptions) {
    for (let i = 0; i < options.threads; i++) this.lanes.push(this.spawn());
  }

  /** Resolves once every thread has loaded the compiler. */
  ready(): Promise<void> {
    return new Promise((resolve) => {
      const poll = () => (this.closed || this.lanes.every((l) => l.ready) ? resolve() : setTimeout(poll, 20).unref());
      poll();
    });
  }

  /** Strips one source; refuses with PoolError("queue_full") when every thread is busy and the queue is full. */
  strip(text: string): Promise<Stripped> {
    if (this.closed) return Promise.reject(new PoolError("closed", "the TypeScript pool is closed"));
    const idle = this.lanes.some((l) => l.ready && l.job === undefined);
    if (!idle && this.queue.length >= this.options.queueLength) {
      // The worst wait: every queued source and every running one takes its whole limit.
      const waitMs = ((this.queue.length + this.lanes.length) * this.options.timeoutMs) / this.lanes.length;
      return Promise.reject(new PoolError("queue_full", "the TypeScript queue is full", Math.max(1, Math.ceil(waitMs / 1000))));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ text, resolve, reject });
      this.dispatch();
    });
  }

  stats(): { threads: number; ready: number; busy: number; queued: number } {
    return {
      threads: this.lanes.length,
      ready: this.lanes.filter((l) => l.ready).length,
      busy: this.lanes.filter((l) => l.job !== undefined).length,
      queued: this.queue.length,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new PoolError("closed", "the TypeScript pool is closed"));
    await Promise.all(this.lanes.map(async (lane) => {
      if (lane.job !== undefined) {
        clearInterval(lane.job.timer);
        lane.job.job.reject(new PoolError("closed", "the TypeScript pool is closed"));
        lane.job = undefined;
      }
      await lane.worker.terminate();
    }));
  }

  private spawn(): Lane {
    const worker = new Worker(THREAD_URL, {
      resourceLimits: { maxOldGenerationSizeMb: this.options.memoryMb },
      // The thread needs nothing from the service's environment.
      env: {},
    });
    const lane: Lane = { worker, ready: false };
    worker.on("message", (message: { ready?: true; tid?: number; id?: number; result?: Stripped }) => {
      if (message.ready === true) {
        lane.ready = true;
        lane.tid = message.tid;
        this.dispatch();
        return;
      }
      const running = lane.job;
      if (running === undefined || running.id !== message.id || message.result === undefined) return;
      clearInterval(running.timer);
      lane.job = undefined;
      running.job.resolve(message.result);
      this.dispatch();
    });
    // An out-of-memory parse ends the thread with an error; so would a bug. Either way the source gets
    // an answer and the thread a successor.
    worker.on("error", (error: Error & { code?: string }) => {
      const memory = error.code === "ERR_WORKER_OUT_OF_MEMORY";
      if (!memory) this.options.log?.error({ err: error }, "TypeScript thread failed");
      this.replace(lane, memory
        ? `This TypeScript is too large to parse within ${this.options.memoryMb} MB.`
        : "This TypeScript could not be parsed (the parser stopped).");
    });
    worker.on("exit", () => {
      if (!this.closed && this.lanes.includes(lane)) this.replace(lane, "This TypeScript could not be parsed (the parser stopped).");
    });
    return lane;
  }

  /** Answers the lane's source with `message`, ends its thread and starts another in its place. */
  private replace(lane: Lane, message: string): void {
    const index = this.lanes.indexOf(lane);
    if (index < 0 || this.closed) return;
    if (lane.job !== undefined) {
      clearInterval(lane.job.timer);
      lane.job.job.resolve(refusal(message));
      lane.job = undefined;
    }
    void lane.worker.terminate();
    this.lanes[index] = this.spawn();
  }

  private dispatch(): void {
    for (const lane of this.lanes) {
      if (this.queue.length === 0) return;
      if (!lane.ready || lane.job !== undefined) continue;
      const job = this.queue.shift() as Job;
      const id = this.nextId++;
      const limitMs = this.options.timeoutMs;
      const timer = setInterval(() => this.check(lane), Math.max(10, Math.min(100, limitMs / 10)));
      lane.job = { id, job, timer, startedAt: performance.now(), ...(lane.tid !== undefined ? { cpuAtStart: threadCpuMs(lane.tid) } : {}) };
      lane.worker.postMessage({ id, text: job.text });
    }
  }

  /** Replaces the lane's thread once its source has used its limit of CPU time (or WALL_FACTOR times it of wall-clock time). */
  private check(lane: Lane): void {
    const running = lane.job;
    if (running === undefined) return;
    const limitMs = this.options.timeoutMs;
    const wallMs = performance.now() - running.startedAt;
    const cpuNow = lane.tid !== undefined && running.cpuAtStart !== undefined ? threadCpuMs(lane.tid) : undefined;
    const usedMs = cpuNow !== undefined && running.cpuAtStart !== undefined ? cpuNow - running.cpuAtStart : wallMs;
    if (usedMs < limitMs && wallMs < limitMs * WALL_FACTOR) return;
    this.replace(lane, `This TypeScript is too complex to parse within ${limitMs} ms; simplify it (long chains of "as" or "satisfies", deep nesting) or submit JavaScript.`);
  }
}
