import type { FastifyInstance } from "fastify";
import request from "supertest";

/** GET /metrics from loopback (open there), as Prometheus scrapes it. */
export async function scrape(app: FastifyInstance): Promise<string> {
  return (await request(app.server).get("/metrics")).text;
}

/** The value of one series in a scrape, e.g. metricValue(text, 'gradebox_gradings_total{assignment="gradient-checking",status="passed"}'); 0 when absent. */
export function metricValue(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
