import * as Plot from "@observablehq/plot";
import { h, table } from "./dom.js";

/** Charts by Observable Plot (SVG: one <rect> per bar, each with a <title>), each with its data as a table. */

export interface Bucket {
  from: number;
  to: number;
  count: number;
}

/** Whole-number ticks for counts (0, 1, 2 … or a round step): never "1, 1, 2, 2", never a gap at 1. */
function countTicks(counts: number[]): number[] {
  const max = Math.max(1, ...counts);
  const step = Math.max(1, Math.ceil(max / 5));
  return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
}

export function scoreHistogram(buckets: Bucket[], width: number): HTMLElement {
  const chart = Plot.plot({
    width,
    height: 240,
    marginBottom: 40,
    x: { label: "score (% of the maximum)", domain: [0, 100] },
    y: { label: "students", grid: true, tickFormat: "d", ticks: countTicks(buckets.map((b) => b.count)) },
    marks: [
      Plot.rectY(buckets, { x1: "from", x2: "to", y: "count", insetLeft: 1, insetRight: 1, fill: "#1f5f99", title: (d: Bucket) => `${d.from}–${d.to}%: ${d.count}`, ariaLabel: (d: Bucket) => `score ${d.from}–${d.to}%: ${d.count} students` }),
      Plot.ruleY([0]),
    ],
    ariaLabel: "Histogram of the latest score per student",
  });
  return h("figure", { id: "histogram" }, chart,
    h("figcaption", {}, "Latest graded submission per student, by score."),
    h("details", {}, h("summary", {}, "Data"), table("Score histogram", ["score %", "students"], buckets.map((b) => [`${b.from}–${b.to}`, b.count]))));
}

export function perDayChart(days: Array<{ day: string; count: number }>, width: number): HTMLElement {
  const data = days.map((d) => ({ date: new Date(`${d.day}T00:00:00Z`), count: d.count, day: d.day }));
  const chart = Plot.plot({
    width,
    height: 200,
    x: { label: "day (UTC)", type: "utc" },
    y: { label: "submissions", grid: true, tickFormat: "d", ticks: countTicks(days.map((d) => d.count)) },
    marks: [
      Plot.rectY(data, { x: "date", interval: "day", y: "count", insetLeft: 1, fill: "#2e7d4f", title: (d: { day: string; count: number }) => `${d.day}: ${d.count}`, ariaLabel: (d: { day: string; count: number }) => `${d.day}: ${d.count} submissions` }),
      Plot.ruleY([0]),
    ],
    ariaLabel: "Submissions per day",
  });
  return h("figure", { id: "per-day" }, chart,
    h("figcaption", {}, `Submissions per day, the last ${days.length} days.`),
    h("details", {}, h("summary", {}, "Data"), table("Submissions per day", ["day", "submissions"], days.map((d) => [d.day, d.count]))));
}

/** A width for charts that fits the column (390 px phones included). */
export function chartWidth(container: HTMLElement): number {
  return Math.max(280, Math.min(900, (container.clientWidth || window.innerWidth) - 24));
}
