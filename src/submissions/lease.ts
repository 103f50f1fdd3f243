import type { Log } from "../logger.js";

/** Renewals per lease: one or two late ones (a slow database, a busy event loop) do not lose it. */
export const RENEWALS_PER_LEASE = 3;

/** What a lease keeper renews, and what it says of it in the logs. */
export interface LeaseHolder {
  /** Extends the lease by `leaseMs` from `now`; false when it is no longer this node's. */
  renew(now: number, leaseMs: number): Promise<boolean>;
  /** The log fields that name what is held (a submission and its attempt, a regrade and its claim). */
  fields: Record<string, unknown>;
  /** Logged once when a renewal is refused, at `lostLevel` (warn unless losing it is routine, as a cancel is). */
  lostMessage: string;
  lostLevel?: "info" | "warn";
  /** Called once when a renewal is refused. */
  onLost?: () => void;
}

/**
 * Keeps a lease alive while this node works under it (grading a claimed submission, running a
 * regrade), renewing it every third of LEASE_S. A node that dies stops renewing, so the lease runs
 * out and another node claims the work again. A refused renewal means the work is no longer this
 * node's: what it still tries to store is refused by the claim (the fencing token), so only one
 * result is ever stored.
 */
export class LeaseKeeper {
  private readonly timer: NodeJS.Timeout;
  private renewing = false;
  lost = false;

  constructor(private readonly holder: LeaseHolder, private readonly leaseMs: number, private readonly logger: Log) {
    this.timer = setInterval(() => void this.renew(), leaseMs / RENEWALS_PER_LEASE);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.lost) return;
    this.renewing = true;
    try {
      if (!(await this.holder.renew(Date.now(), this.leaseMs))) {
        this.lost = true;
        this.stop();
        this.logger[this.holder.lostLevel ?? "warn"](this.holder.fields, this.holder.lostMessage);
        this.holder.onLost?.();
      }
    } catch (error) {
      // The database is unreachable: keep trying; if it stays down past the lease, another node may take over.
      this.logger.warn({ ...this.holder.fields, err: error }, "could not renew a lease; trying again");
    } finally {
      this.renewing = false;
    }
  }
}
