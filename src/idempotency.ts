import { createHash } from "node:crypto";

/**
 * Remembers recent answers by Idempotency-Key, so that a course platform can retry a submission
 * safely: the same key and body give the same feedback without grading again; the same key with
 * another body is a conflict. Bounded in size (the least recently used entries are forgotten) and in
 * time (an entry older than the window is gone: the key grades anew).
 */
export class IdempotencyCache<T> {
  private readonly entries = new Map<string, { bodyHash: string; result: Promise<T>; storedAt: number }>();

  constructor(
    private readonly capacity: number,
    private readonly windowMs = Number.POSITIVE_INFINITY,
    private readonly now: () => number = Date.now,
  ) {}

  static hash(value: unknown): string {
    return createHash("sha256").update(JSON.stringify(value)).digest("hex");
  }

  /**
   * Returns the remembered result for this key, or runs `compute` and remembers it. A failed
   * computation is forgotten, so a retry computes again.
   */
  run(key: string, bodyHash: string, compute: () => Promise<T>): { result: Promise<T>; replayed: boolean } | { conflict: true } {
    let existing = this.entries.get(key);
    if (existing !== undefined && this.now() - existing.storedAt >= this.windowMs) {
      this.entries.delete(key);
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
      this.entries.set(key, { bodyHash, result, storedAt: this.now() });
      result.catch(() => {
        if (this.entries.get(key)?.result === result) this.entries.delete(key);
      });
      while (this.entries.size > this.capacity) {
        const oldest = this.entries.keys().next().value as string;
        this.entries.delete(oldest);
      }
    }
    return { result, replayed: false };
  }

  get size(): number {
    return this.entries.size;
  }
}
