import type { Log } from "../logger.js";
import type { RegradeStore } from "../store/store.js";
import { RENEWALS_PER_LEASE } from "../submissions/lease.js";

/**
 * Keeps the lease of a regrade this node runs, renewing it every third of LEASE_S, as LeaseKeeper does
 * for a submission. A refused renewal means the regrade is no longer this node's to run: a client
 * cancelled it (from any node), or this node stalled past its lease and another node claimed it. Either
 * way `onLost` stops the run; what it still tries to record is refused by the claim (the fencing token).
 */
export class RegradeLeaseKeeper {
  private readonly timer: NodeJS.Timeout;
  private renewing = false;
  lost = false;

  constructor(
    private readonly store: RegradeStore,
    private readonly id: string,
    private readonly claim: number,
    private readonly leaseMs: number,
    private readonly logger: Log,
    private readonly onLost: () => void,
  ) {
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
      if (!(await this.store.renewRegradeLease(this.id, this.claim, Date.now(), this.leaseMs))) {
        this.lost = true;
        this.stop();
        this.logger.info({ regrade: this.id, claim: this.claim }, "regrade no longer held here (cancelled, finished, or claimed by another node): stopping it");
        this.onLost();
      }
    } catch (error) {
      // The database is unreachable: keep trying; if it stays down past the lease, another node may take over.
      this.logger.warn({ regrade: this.id, err: error }, "could not renew a regrade's lease; trying again");
    } finally {
      this.renewing = false;
    }
  }
}
