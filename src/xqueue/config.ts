import { Ajv } from "ajv";

/**
 * The settings of gradebox-xqueue, the Open edX connector (a separate process from the service, with
 * its own table in the same shape as src/config.ts's): read from the environment, listed in
 * integrations/openedx/README.md, and a test checks that the two agree.
 */
export const xqueueSettings = {
  XQUEUE_URL: { type: "string", default: "http://127.0.0.1:18040", unit: "", description: "The XQueue server's base URL (the endpoints live under /xqueue/)." },
  XQUEUE_QUEUE: { type: "string", default: "", unit: "", description: "The queue to pull from: the problem's queuename. Required." },
  XQUEUE_USERNAME: { type: "string", default: "", unit: "", description: "XQueue user of this grader (a Django user of the XQueue server)." },
  XQUEUE_PASSWORD: { type: "string", default: "", unit: "", description: "That user's password." },
  XQUEUE_ASSIGNMENTS: { type: "string", default: "{}", unit: "", description: "JSON object mapping a problem's grader_payload to a gradebox assignment id, e.g. {\"gc\": \"gradient-checking\"}." },
  XQUEUE_DEFAULT_ASSIGNMENT: { type: "string", default: "", unit: "", description: "Assignment for a grader_payload the map does not name; empty answers such submissions with a configuration error." },
  XQUEUE_SPOOL: { type: "string", default: "gradebox-xqueue.sqlite", unit: "", description: "SQLite file where pulled submissions wait until XQueue has accepted their result; it survives restarts." },
  XQUEUE_POLL_MS: { type: "integer", default: 1000, minimum: 10, maximum: 600000, unit: "ms", description: "Pause between two looks at an empty queue." },
  XQUEUE_BACKOFF_MAX_MS: { type: "integer", default: 60000, minimum: 10, maximum: 3600000, unit: "ms", description: "Longest pause after failures: the pause doubles from XQUEUE_POLL_MS while XQueue or gradebox is down." },
  XQUEUE_TIMEOUT_MS: { type: "integer", default: 30000, minimum: 100, maximum: 600000, unit: "ms", description: "Time one request to XQueue may take." },
  GRADEBOX_URL: { type: "string", default: "http://127.0.0.1:3000", unit: "", description: "The gradebox service that grades (local or remote)." },
  GRADEBOX_API_KEY: { type: "string", default: "", unit: "", description: "API key sent to gradebox as a bearer token; empty sends none." },
  GRADEBOX_TIMEOUT_MS: { type: "integer", default: 120000, minimum: 100, maximum: 3600000, unit: "ms", description: "Time one grading request to gradebox may take." },
} as const;

export interface XqueueConfig {
  xqueueUrl: string;
  queue: string;
  username: string;
  password: string;
  assignments: Record<string, string>;
  defaultAssignment: string;
  spool: string;
  pollMs: number;
  backoffMaxMs: number;
  xqueueTimeoutMs: number;
  gradeboxUrl: string;
  apiKey: string;
  gradeboxTimeoutMs: number;
}

type Name = keyof typeof xqueueSettings;

export function loadXqueueConfig(env: NodeJS.ProcessEnv = process.env): XqueueConfig {
  const schema = {
    type: "object",
    properties: Object.fromEntries(Object.entries(xqueueSettings).map(([name, { unit: _unit, ...rest }]) => [name, rest])),
  };
  const validate = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: false }).compile(schema);
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(xqueueSettings)) if (env[name] !== undefined && env[name] !== "") raw[name] = env[name];
  const problems: string[] = [];
  if (!validate(raw)) problems.push(...(validate.errors ?? []).map((e) => `${e.instancePath.slice(1)} ${e.message ?? "is invalid"}`));
  const v = raw as { [K in Name]: (typeof xqueueSettings)[K]["default"] extends number ? number : string };
  let assignments: Record<string, string> = {};
  try {
    const parsed: unknown = JSON.parse(String(v.XQUEUE_ASSIGNMENTS));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((a) => typeof a !== "string")) throw new Error();
    assignments = parsed as Record<string, string>;
  } catch {
    problems.push("XQUEUE_ASSIGNMENTS must be a JSON object of strings");
  }
  if (v.XQUEUE_QUEUE === "") problems.push("XQUEUE_QUEUE is required");
  if (problems.length > 0) throw new Error(`Invalid configuration: ${problems.join("; ")}`);
  return {
    xqueueUrl: v.XQUEUE_URL.replace(/\/+$/, ""),
    queue: v.XQUEUE_QUEUE,
    username: v.XQUEUE_USERNAME,
    password: v.XQUEUE_PASSWORD,
    assignments,
    defaultAssignment: v.XQUEUE_DEFAULT_ASSIGNMENT,
    spool: v.XQUEUE_SPOOL,
    pollMs: v.XQUEUE_POLL_MS,
    backoffMaxMs: v.XQUEUE_BACKOFF_MAX_MS,
    xqueueTimeoutMs: v.XQUEUE_TIMEOUT_MS,
    gradeboxUrl: v.GRADEBOX_URL.replace(/\/+$/, ""),
    apiKey: v.GRADEBOX_API_KEY,
    gradeboxTimeoutMs: v.GRADEBOX_TIMEOUT_MS,
  };
}
