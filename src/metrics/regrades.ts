import { Counter, Gauge, type Registry } from "prom-client";
import { REGRADE_OUTCOMES, type RegradeOutcome, type RegradeStatus } from "../store/store.js";

/**
 * Regrades' Prometheus series (issue #16: background work is visible in metrics too). The runner
 * reports what happens (RegradeEvent); what is running now is read from it at each scrape
 * (RegradeGauges), so a gauge cannot drift from an increment a failure path forgot. Each node counts
 * what it did: summed over the nodes, a regrade ends once and each item is counted once.
 */

/** `dry_run` (a preview: nothing stored about the submissions) or `real` (each gets a new grading). */
export type RegradeKind = "dry_run" | "real";
const KINDS: RegradeKind[] = ["dry_run", "real"];
const ENDINGS: Array<Exclude<RegradeStatus, "running">> = ["done", "failed", "cancelled"];

export const regradeKind = (dryRun: boolean): RegradeKind => (dryRun ? "dry_run" : "real");

export type RegradeEvent =
  /** An item recorded: one stored submission graded again, by how its score moved. */
  | { type: "item"; dryRun: boolean; outcome: RegradeOutcome }
  /** A regrade this node finished (done, failed) or cancelled; a pause by a shutdown is not an end. */
  | { type: "ended"; dryRun: boolean; status: Exclude<RegradeStatus, "running"> };

/** What the regrade runner has under way on this node now. */
export interface RegradeGauges {
  running(): Record<RegradeKind, number>;
  /** Gradings of the regrade lane running now. */
  gradingsInFlight(): number;
  /** Submissions the running regrades have not started yet. */
  itemsWaiting(): number;
}

export interface RegradeMetrics {
  regrades: Counter<"kind" | "status">;
  items: Counter<"kind" | "outcome">;
  /** Feeds the runner's events (RegradeRunnerOptions.onEvent). */
  onRegradeEvent(event: RegradeEvent): void;
  /** The runner, once it exists (it is created after the metrics). */
  bindRegrades(gauges: RegradeGauges): void;
}

export function createRegradeMetrics(registry: Registry): RegradeMetrics {
  let gauges: RegradeGauges | undefined;
  const regrades = new Counter({ name: "gradebox_regrades_total", help: "Regrades that ended on this node, by kind (dry_run, real) and how they ended (done, failed, cancelled).", labelNames: ["kind", "status"] as const, registers: [registry] });
  const items = new Counter({ name: "gradebox_regrade_items_total", help: "Stored submissions graded again by a regrade on this node, by kind and how the score moved (improved, worsened, unchanged; errored: the service could not grade it, or its source was blanked).", labelNames: ["kind", "outcome"] as const, registers: [registry] });
  // Every series from zero, so that the first regrade is an increase (rate() and increase() see it).
  for (const kind of KINDS) {
    for (const status of ENDINGS) regrades.inc({ kind, status }, 0);
    for (const outcome of REGRADE_OUTCOMES) items.inc({ kind, outcome }, 0);
  }
  new Gauge({
    name: "gradebox_regrades_running",
    help: "Regrades this node is running now, by kind.",
    labelNames: ["kind"] as const,
    registers: [registry],
    collect() {
      if (gauges === undefined) return;
      for (const [kind, count] of Object.entries(gauges.running())) this.set({ kind }, count);
    },
  });
  new Gauge({
    name: "gradebox_regrade_gradings_in_flight",
    help: "Gradings of the regrade lane running now on this node (they take only workers no live submission wants).",
    registers: [registry],
    collect() {
      if (gauges !== undefined) this.set(gauges.gradingsInFlight());
    },
  });
  new Gauge({
    name: "gradebox_regrade_items_waiting",
    help: "Submissions the regrades running on this node have not started grading yet.",
    registers: [registry],
    collect() {
      if (gauges !== undefined) this.set(gauges.itemsWaiting());
    },
  });
  return {
    regrades,
    items,
    onRegradeEvent(event) {
      const kind = regradeKind(event.dryRun);
      if (event.type === "item") items.inc({ kind, outcome: event.outcome });
      else regrades.inc({ kind, status: event.status });
    },
    bindRegrades(given) {
      gauges = given;
    },
  };
}
