import Fastify from "fastify";
import { app, serverOptions } from "./app.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { Drain } from "./drain.js";
import { AggregatePackError } from "./packs/registry.js";
import { ConfinementError } from "./sandbox/confinement.js";
import { DatabaseStartError, describeDatabase, waitForDatabase } from "./store/postgres/wait.js";

// The only file that binds a port: read the config, build the app, listen, close on signals.
let config: Config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78);
}

const server = Fastify(serverOptions(config));
const drain = new Drain();
try {
  if (config.databaseUrl !== "") {
    const { attempts } = await waitForDatabase({
      url: config.databaseUrl,
      timeoutMs: config.databaseStartWaitMs,
      onRetry: (attempt, reason, nextInMs) => server.log.warn({ attempt, reason, nextInMs }, `waiting for PostgreSQL at ${describeDatabase(config.databaseUrl)}`),
    });
    if (attempts > 1) server.log.info({ attempts }, "PostgreSQL answers");
  }
  await server.register(app, { config, drain });
  const address = await server.listen({ port: config.port, host: config.host });
  // Where an instructor opens the console (issue #20), as a log line like the others (stdout stays JSON lines).
  server.log.info({ console: `${address}/console` }, `instructor console at ${address}/console`);
} catch (error) {
  if (error instanceof ConfinementError) {
    // Why the second wall is missing and how to fix it, as a sentence for whoever started the service.
    server.log.fatal("grading workers cannot be confined; the service will not start (CONFINEMENT=required)");
    process.stderr.write(`${error.message}\n`);
    await server.close().catch(() => undefined);
    process.exit(78);
  }
  if (error instanceof DatabaseStartError) {
    // EX_UNAVAILABLE: the database, not this node, is what is missing; a supervisor may start it again later.
    server.log.fatal("the database is unavailable; the service will not start");
    process.stderr.write(`${error.message}\n`);
    await server.close().catch(() => undefined);
    process.exit(69);
  }
  if (error instanceof AggregatePackError) {
    server.log.fatal("a pack is broken; the service will not start until it is fixed");
    process.stderr.write(`${error.message}\n`);
  } else {
    server.log.fatal({ err: error }, "the service could not start");
  }
  await server.close().catch(() => undefined);
  process.exit(1);
}

// Graceful drain (src/drain.ts): unready and refusing new sync gradings at once, the in-flight ones
// finish within SHUTDOWN_GRACE_S, then the app closes (workers, store) and the process exits 0.
// A second signal while draining is not caught: it stops the process at once.
async function drainAndClose(signal: NodeJS.Signals): Promise<void> {
  const graceMs = config.shutdownGraceS * 1000;
  server.log.info({ signal, inFlight: drain.active, graceS: config.shutdownGraceS }, "draining");
  const { finished, left } = await drain.drain(graceMs, (fields, message) => server.log.error(fields, message));
  if (finished) server.log.info("drained: no grading in flight");
  else server.log.warn({ left }, "the grace period is over; closing with gradings in flight");
  await server.close();
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    drainAndClose(signal).then(() => process.exit(0), (error: unknown) => {
      server.log.fatal({ err: error }, "closing failed");
      process.exit(1);
    });
  });
}
