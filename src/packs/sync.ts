import type { Log } from "../logger.js";
import type { SubmissionStore } from "../store/store.js";
import type { Registry } from "./registry.js";

/**
 * Keeps this node's live packs at the versions installed through the API on any node (issue #15's
 * gap). Installs here are saved to the store (Registry.share); the store's `pack` wake-ups, and a
 * look at every stored pack at start and after a lost connection (`resync`, when notifications may
 * have been missed), make the stored version live here too. The Registry does the install, so
 * this node self-tests it itself and never saves it back (no loop).
 */
export class PackSync {
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(private readonly registry: Registry, private readonly store: SubmissionStore, private readonly logger: Log) {}

  /**
   * Subscribes, then installs every stored pack whose version differs from the live one (what the
   * folder loaded): an install through the API wins over GRADERS_DIR's version of the same id. Resolves
   * once done, so that the node serves nothing older than the store holds. Throws if the store cannot
   * be read (the node cannot start without its store anyway).
   */
  async start(): Promise<void> {
    this.registry.share(this.store);
    this.unsubscribe = this.store.subscribe((event) => {
      if (event.kind === "pack") void this.syncOne(event.id);
      else if (event.kind === "resync") void this.syncAll().catch((err: unknown) => this.logger.warn({ err }, "could not look at the installed packs after a lost connection"));
    });
    await this.syncAll();
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
  }

  /** One id at a time: each install self-tests on this node's workers, which also grade. */
  private async syncAll(): Promise<void> {
    for (const stored of await this.store.installedPacks()) await this.syncOne(stored.id);
  }

  private async syncOne(id: string): Promise<void> {
    if (this.closed) return;
    try {
      await this.registry.syncFromStore(id);
    } catch (err) {
      // The store or the sandbox is unavailable now: the next wake-up, resync or start tries again.
      this.logger.warn({ err, assignment: id }, "could not install the pack installed on another node; this node keeps its previous version");
    }
  }
}
