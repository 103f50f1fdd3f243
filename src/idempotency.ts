import { canonicalHash } from "./canonical.js";

/** How an entry's size is measured for IDEMPOTENCY_CACHE_MB. */
export type SizeOf<T> = (value: T) => number;

interface Entry<T> {
  bodyHash: string;
  result: Promise<T>;
  storedAt: number;
  /** Counted once the result is known; 0 while it is computed. */
  bytes: number;
}

/**
 * Remembers recent answers by Idempotency-Key, so that a course platform can retry a submission
 * safely: the same key and body give the same feedback without grading again; the same key with
 * another body is a conflict. Bounded in entries and in bytes (the least recently used entries are
 * forgotten past either bound) and in time (an entry older than the window is gone: the key grades
 * anew).
 */
export class IdempotencyCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private bytes = 0;

  constructor(
    private readonly capacity: number,
    private readonly windowMs = Number.POSITIVE_INFINITY,
    private readonly now: () => number = Date.now,
    private readonly bound: { maxBytes: number; sizeOf: SizeOf<T> } = { maxBytes: Number.POSITIVE_INFINITY, sizeOf: () => 0 },
  ) {}

  /** The hash that identifies a request: see canonicalHash (the store keys its submissions with it too). */
  static hash(value: unknown): string {
    return canonicalHash(value);
  }

  /**
   * Returns the remembered result for this key, or runs `compute` and remembers it. A failed
   * computation is forgotten, so a retry computes again.
   */
  run(key: string, bodyHash: string, compute: () => Promise<T>): { result: Promise<T>; replayed: boolean } | { conflict: true } {
    let existing = this.entries.get(key);
    if (existing !== undefined && this.now() - existing.storedAt >= this.windowMs) {
      this.forget(key);
      existing = undefined;
    }
    if (existing !== undefined) {
      if (existing.bodyHash !== bodyHash) return { conflict: true };
      this.entries.delete(key);
      this.entries.set(key, existing);
      return { result: existing.result, replayed: true };
    }
    const result = compute();
    if (this.capacity > 0) {
      const entry: Entry<T> = { bodyHash, result, storedAt: this.now(), bytes: 0 };
      this.entries.set(key, entry);
      result.then((value) => {
        if (this.entries.get(key) !== entry) return;
        entry.bytes = key.length + bodyHash.length + this.bound.sizeOf(value);
        this.bytes += entry.bytes;
        this.evict();
      }, () => {
        if (this.entries.get(key) === entry) this.forget(key);
      });
      this.evict();
    }
    return { result, replayed: false };
  }

  get size(): number {
    return this.entries.size;
  }

  /** What the remembered results take, as measured by `sizeOf`. */
  get byteSize(): number {
    return this.bytes;
  }

  private forget(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.bytes -= entry.bytes;
    this.entries.delete(key);
  }

  /** Forgets the least recently used entries until both bounds hold. */
  private evict(): void {
    while (this.entries.size > this.capacity || this.bytes > this.bound.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.forget(oldest);
    }
  }
}
