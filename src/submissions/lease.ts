import type { Log } from "../logger.js";
import type { Claim, SubmissionStore } from "../store/store.js";

/** Renewals per lease: one or two late ones (a slow database, a busy event loop) do not lose it. */
export const RENEWALS_PER_LEASE = 3;

/**
 * Keeps a claimed submission's lease alive while this node grades it, renewing it every third of
 * LEASE_S. A node that dies stops renewing, so the lease runs out and another node claims the
 * submission again. A refused renewal means the submission is no longer this node's (it was claimed
 * again after a stall longer than the lease): the grading goes on, but its result will be refused
 * by the conditional finish, so only one result is ever stored.
 */
export class LeaseKeeper {
  private readonly timer: NodeJS.Timeout;
  private renewing = false;
  lost = false;

  constructor(private readonly store: SubmissionStore, private readonly claim: Claim, private readonly leaseMs: number, private readonly logger: Log) {
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
      if (!(await this.store.renewLease(this.claim, Date.now(), this.leaseMs))) {
        this.lost = true;
        this.stop();
        this.logger.warn({ submission: this.claim.id, attempt: this.claim.attempt }, "lease lost: another node has this submission now");
      }
    } catch (error) {
      // The database is unreachable: keep trying; if it stays down past the lease, another node may take over.
      this.logger.warn({ submission: this.claim.id, err: error }, "could not renew a lease; trying again");
    } finally {
      this.renewing = false;
    }
  }
}
