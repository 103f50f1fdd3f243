#!/usr/bin/env node
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config.js";
import { isScope, SCOPES, type ApiKey, type Scope } from "../auth/keys.js";
import { openKeyStore } from "../auth/open.js";

/**
 * gradebox-keys: the operators' tool for API keys, on the database in DATA_DIR, or in PostgreSQL with
 * DATABASE_URL (the service may be running: it reads keys on every request, so a new or revoked key
 * counts at once, on every node).
 *
 * Exit codes: 0 success, 1 no such key, 2 wrong usage, 78 a bad setting.
 */

const USAGE = `Usage: gradebox-keys <command> [options]

Commands:
  create --name NAME --scopes SCOPES [--rate-limit N]
                      Create a key for a client and print its secret (once: only its SHA-256 is kept).
                      SCOPES is a comma-separated list of ${SCOPES.join(", ")}. --rate-limit: requests
                      per minute for this key (default RATE_LIMIT_PER_MIN).
  list [--json]       Every key: id, name, scopes, rate limit, created, revoked. Never a secret.
  revoke <id>         Revoke a key; requests with its secret are refused from then on.

The database is DATA_DIR/gradebox.db (DATA_DIR from the environment, default data/), or PostgreSQL
when DATABASE_URL is set.`;

class UsageError extends Error {}

function parseScopes(text: string | undefined): Scope[] {
  if (text === undefined || text.trim() === "") throw new UsageError("--scopes is required (e.g. --scopes submit,read)");
  const names = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const unknown = names.filter((s) => !isScope(s));
  if (unknown.length > 0) throw new UsageError(`unknown scope(s) ${unknown.join(", ")}: the scopes are ${SCOPES.join(", ")}`);
  return names as Scope[];
}

function row(key: ApiKey): string {
  const limit = key.rateLimitPerMin === null ? "default" : `${key.rateLimitPerMin}/min`;
  return [key.id, key.name, key.scopes.join(","), limit, key.createdAt, key.revokedAt === null ? "active" : `revoked ${key.revokedAt}`].join("\t");
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { name: { type: "string" }, scopes: { type: "string" }, "rate-limit": { type: "string" }, json: { type: "boolean" }, help: { type: "boolean" } },
  });
  if (command === undefined || command === "help" || values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (!["create", "list", "revoke"].includes(command)) throw new UsageError(`unknown command '${command}'`);
  const config = loadConfig(process.env);
  const store = await openKeyStore(config);
  try {
    if (command === "create") {
      const name = values.name?.trim() ?? "";
      if (name === "") throw new UsageError("--name is required");
      const scopes = parseScopes(values.scopes);
      const limitText = values["rate-limit"];
      const rateLimitPerMin = limitText === undefined ? null : Number(limitText);
      if (rateLimitPerMin !== null && !(Number.isInteger(rateLimitPerMin) && rateLimitPerMin >= 1)) throw new UsageError("--rate-limit must be a whole number of requests per minute, at least 1");
      const { key, secret } = await store.create({ name, scopes, rateLimitPerMin });
      process.stdout.write(`${row(key)}\n`);
      process.stdout.write(`secret: ${secret}\n`);
      process.stderr.write("Keep the secret now: it is not stored and cannot be shown again. Send it as Authorization: Bearer <secret>.\n");
      return 0;
    }
    if (command === "list") {
      const keys = await store.list();
      if (values.json === true) process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
      else for (const key of keys) process.stdout.write(`${row(key)}\n`);
      return 0;
    }
    const id = positionals[0];
    if (id === undefined) throw new UsageError("revoke needs a key id (see gradebox-keys list)");
    if (!(await store.revoke(id))) {
      process.stderr.write(`no active key has the id '${id}'\n`);
      return 1;
    }
    process.stdout.write(`revoked ${id}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    process.stderr.write(`gradebox-keys: ${(error as Error).message}\n\n${USAGE}\n`);
    process.exitCode = 2;
  } else if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 78;
  } else {
    throw error;
  }
}
