import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * API keys: who a request comes from, and what it may do. A key belongs to a client (a course
 * platform, a course's CI). The store keeps only the SHA-256 of a key's secret; the secret is shown
 * once, when the key is created.
 */

export const SCOPES = ["submit", "read", "admin"] as const;

/** submit: POST submissions; read: GET its own submissions; admin: packs, regrades, every submission, metrics. */
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  id: string;
  name: string;
  scopes: Scope[];
  /** Requests per minute for this key; null means RATE_LIMIT_PER_MIN. */
  rateLimitPerMin: number | null;
  createdAt: string;
  revokedAt: string | null;
}

/** The client a request was authenticated as, as routes see it on `request.client`. */
export interface Client {
  id: string;
  name: string;
  scopes: Scope[];
  rateLimitPerMin: number | null;
}

export interface NewKey {
  name: string;
  scopes: Scope[];
  rateLimitPerMin?: number | null;
}

/**
 * Where keys live. Small on purpose: the submission store's engines can implement it too. A method
 * may answer at once (SQLite: no event-loop turn on the hot path of every request) or with a promise
 * (PostgreSQL, shared by every node); callers await either.
 */
export interface KeyStore {
  /** Creates a key and returns it with its secret, which is not kept and cannot be read again. */
  create(key: NewKey): Awaitable<{ key: ApiKey; secret: string }>;
  /** Every key, revoked ones included (oldest first); never a secret or its hash. */
  list(): Awaitable<ApiKey[]>;
  /** Revokes a key; false if no key has this id or it was already revoked. */
  revoke(id: string): Awaitable<boolean>;
  /** The key a secret belongs to, if that key exists and is not revoked. */
  verify(secret: string): Awaitable<ApiKey | undefined>;
  /**
   * Whether any key was ever created. Revoked keys count: revoking the last key must not open the
   * service to everyone.
   */
  anyKeys(): Awaitable<boolean>;
  /** Throws if the store cannot answer (for readiness). */
  ping(): Awaitable<void>;
  close(): Awaitable<void>;
}

export type Awaitable<T> = T | Promise<T>;

const SECRET_PREFIX = "gbx_";
const ID_BYTES = 8;
const SECRET_BYTES = 32;
// gbx_<16 hex id>.<43 base64url chars>: the id finds the row, the rest is the secret proper.
const SECRET_SHAPE = /^gbx_([0-9a-f]{16})\.[A-Za-z0-9_-]{43}$/;

export function newKeyId(): string {
  return randomBytes(ID_BYTES).toString("hex");
}

/** A new secret for a key id. The prefix lets secret scanners recognise a leaked key. */
export function newSecret(id: string): string {
  return `${SECRET_PREFIX}${id}.${randomBytes(SECRET_BYTES).toString("base64url")}`;
}

/** The key id a secret names, or undefined if it is not shaped like one of ours. */
export function keyIdOf(secret: string): string | undefined {
  return SECRET_SHAPE.exec(secret)?.[1];
}

export function hashSecret(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

/** Constant-time comparison of a given secret with a stored hash (both are 32-byte digests). */
export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const given = hashSecret(secret);
  return storedHash.length === given.length && timingSafeEqual(given, storedHash);
}

/** Constant-time comparison of two tokens of any length (hashing first hides the length). */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(hashSecret(given), hashSecret(expected));
}

/** A row of the api_keys table, as both engines return it (their migrations create the same columns). */
export interface KeyRow {
  id: string;
  name: string;
  scopes: string;
  secret_sha256: Buffer;
  rate_limit_per_min: number | null;
  created_at: string;
  revoked_at: string | null;
}

export function toKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes.split(",").filter(isScope),
    rateLimitPerMin: row.rate_limit_per_min,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Whether a client holds a scope; admin holds every scope. */
export function hasScope(client: Client, scope: Scope): boolean {
  return client.scopes.includes(scope) || client.scopes.includes("admin");
}

/**
 * "A key reads only the submissions it created": whether a client may read a submission made by
 * `clientId` (null: made while the service was open, or by ADMIN_TOKEN). With no client the service
 * is open, and everything is readable as before keys existed.
 */
export function canReadSubmission(client: Client | null, submission: { clientId: string | null }): boolean {
  if (client === null) return true;
  if (client.scopes.includes("admin")) return true;
  return hasScope(client, "read") && submission.clientId === client.id;
}
