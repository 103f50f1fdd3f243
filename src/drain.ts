/**
 * Graceful drain, in the order: on a stop signal the service stops taking new sync gradings
 * and turns unready (so a load balancer routes elsewhere), lets the in-flight ones finish within the
 * grace period, runs the drain hooks (the async queue and webhook retries register theirs: stop
 * claiming new work, leave it queued in the store for the next start, pause retries), and only then
 * closes.
 */
export class Drain {
  private drainingSince: number | undefined;
  private inFlight = 0;
  private readonly idleWaiters = new Set<() => void>();
  private readonly hooks: Array<{ name: string; run: () => Promise<void> | void }> = [];

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Sync gradings under way now. */
  get active(): number {
    return this.inFlight;
  }

  /** Something to stop when the drain starts (before waiting for in-flight gradings). */
  onDrain(name: string, run: () => Promise<void> | void): void {
    this.hooks.push({ name, run });
  }

  /** Counts a sync grading in; the returned function counts it out (once, however often it is called). */
  enter(): () => void {
    this.inFlight++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.inFlight--;
      if (this.inFlight === 0) for (const wake of this.idleWaiters) wake();
    };
  }

  /**
   * Starts the drain and resolves once no sync grading is in flight, or when `graceMs` has passed:
   * `{ finished: false, left }` then says how many were still running. Hooks that throw are reported, not fatal.
   */
  async drain(graceMs: number, log: (fields: object, message: string) => void): Promise<{ finished: boolean; left: number }> {
    this.drainingSince ??= Date.now();
    for (const hook of this.hooks) {
      try {
        await hook.run();
      } catch (error) {
        log({ hook: hook.name, err: error }, "a drain hook failed");
      }
    }
    if (this.inFlight === 0) return { finished: true, left: 0 };
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    const finished = await new Promise<boolean>((resolve) => {
      wake = () => resolve(true);
      this.idleWaiters.add(wake);
      timer = setTimeout(() => resolve(false), graceMs);
    });
    clearTimeout(timer);
    if (wake !== undefined) this.idleWaiters.delete(wake);
    return { finished, left: this.inFlight };
  }
}
