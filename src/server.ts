import Fastify from "fastify";
import { app, serverOptions } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { AggregatePackError } from "./graders/registry.js";
import { ConfinementError } from "./sandbox/confinement.js";

// The only file that binds a port: read the config, build the app, listen, close on signals.
let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78);
}

const server = Fastify(serverOptions(config));
try {
  await server.register(app, { config });
  await server.listen({ port: config.port, host: config.host });
} catch (error) {
  if (error instanceof ConfinementError) {
    // Why the second wall is missing and how to fix it, as a sentence for whoever started the service.
    server.log.fatal("grading workers cannot be confined; the service will not start (CONFINEMENT=required)");
    process.stderr.write(`${error.message}\n`);
    await server.close().catch(() => undefined);
    process.exit(78);
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

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.log.info({ signal }, "closing");
    server.close().then(() => process.exit(0), () => process.exit(1));
  });
}
