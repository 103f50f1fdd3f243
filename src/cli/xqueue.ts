#!/usr/bin/env node
import pino from "pino";
import { loadXqueueConfig } from "../xqueue/config.js";
import { XqueueConnector } from "../xqueue/connector.js";

/** gradebox-xqueue: the Open edX connector. Settings: integrations/openedx/README.md. Stops cleanly on SIGINT/SIGTERM. */
const log = pino({ level: process.env.LOG_LEVEL ?? "info" });
let config;
try {
  config = loadXqueueConfig(process.env);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
const connector = new XqueueConnector(config, log);
const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());
await connector.run(stop.signal);
connector.close();
