import t from "tap";
import { rm } from "node:fs/promises";
import { SqliteKeyStore } from "../../src/auth/sqlite-keys.js";
import { cookieValue, CSRF_HEADER, csrfToken, SESSION_COOKIE } from "../../src/console/session.js";
import { buildApp, tempDataDir } from "../helpers/app.js";

// The console's session against cross-site requests: the cookie never authenticates alone.

const ADMIN_TOKEN = "session test token";
const dataDir = tempDataDir();
const keyStore = new SqliteKeyStore(dataDir);
const reader = keyStore.create({ name: "reader", scopes: ["read"] });
keyStore.close();
const app = await buildApp({ DATA_DIR: dataDir, ADMIN_TOKEN });
t.teardown(async () => {
  await app.close();
  await rm(dataDir, { recursive: true, force: true });
});
const HOST = "console.test:8080";
const ORIGIN = `http://${HOST}`;
const cookie = `${SESSION_COOKIE}=${encodeURIComponent(ADMIN_TOKEN)}`;
const csrf = csrfToken(ADMIN_TOKEN);

t.test("signing in sets an HttpOnly, SameSite=Strict cookie and sends the browser to /console", async (t) => {
  const response = await app.inject({ method: "POST", url: "/console/login", headers: { host: HOST, origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" }, payload: `key=${encodeURIComponent(ADMIN_TOKEN)}` });
  t.equal(response.statusCode, 303);
  t.equal(response.headers.location, "/console");
  const setCookie = String(response.headers["set-cookie"]);
  t.match(setCookie, /HttpOnly/);
  t.match(setCookie, /SameSite=Strict/);
  t.match(setCookie, /Path=\//);
  t.equal(cookieValue(setCookie.split(";")[0], SESSION_COOKIE), ADMIN_TOKEN);
});

t.test("a sign-in from another origin, or with a wrong key, is refused", async (t) => {
  const foreign = await app.inject({ method: "POST", url: "/console/login", headers: { host: HOST, origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" }, payload: `key=${encodeURIComponent(ADMIN_TOKEN)}` });
  t.equal(foreign.statusCode, 403);
  t.notOk(foreign.headers["set-cookie"]);
  const wrong = await app.inject({ method: "POST", url: "/console/login", headers: { host: HOST, origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" }, payload: "key=nope" });
  t.equal(wrong.statusCode, 401);
  t.match(wrong.body, "not a valid API key");
});

t.test("the shell carries the session's CSRF token; without a session it is the sign-in form", async (t) => {
  const shell = await app.inject({ url: "/console/assignments/gradient-checking", headers: { host: HOST, cookie } });
  t.equal(shell.statusCode, 200);
  t.match(shell.body, `<meta name="gradebox-csrf" content="${csrf}">`);
  t.match(String(shell.headers["content-security-policy"]), "script-src 'self'");
  const anonymous = await app.inject({ url: "/console", headers: { host: HOST } });
  t.match(anonymous.body, 'action="/console/login"');
  t.notMatch(anonymous.body, "gradebox-csrf");
  const stale = await app.inject({ url: "/console", headers: { host: HOST, cookie: `${SESSION_COOKIE}=gbx_0000000000000000.revokedkeyrevokedkeyrevokedkeyrevokedkeyrev` } });
  t.match(stale.body, 'action="/console/login"', "a cookie whose key is gone shows the form");
  t.match(String(stale.headers["set-cookie"]), /Max-Age=0/, "and drops the cookie");
});

t.test("the cookie authenticates /v1 only with its CSRF token, and a change only from the console's origin", async (t) => {
  const url = "/v1/assignments/gradient-checking/cases";
  const alone = await app.inject({ url, headers: { host: HOST, cookie } });
  t.equal(alone.statusCode, 401, "the cookie alone is no credential: the request is anonymous");
  const wrong = await app.inject({ url, headers: { host: HOST, cookie, [CSRF_HEADER]: csrfToken("something else") } });
  t.equal(wrong.statusCode, 401);
  t.match(wrong.json().error.message, "CSRF token");
  const right = await app.inject({ url, headers: { host: HOST, cookie, [CSRF_HEADER]: csrf } });
  t.equal(right.statusCode, 200, "cookie + token: the admin's session");
  const trial = { method: "POST" as const, url: "/v1/assignments/gradient-checking/trials", payload: { source: "export const forward_propagation = () => 0;" } };
  const crossSite = await app.inject({ ...trial, headers: { host: HOST, cookie, [CSRF_HEADER]: csrf, origin: "https://evil.example" } });
  t.equal(crossSite.statusCode, 401, "a change from another origin is refused");
  t.match(crossSite.json().error.message, "own origin");
  const noOrigin = await app.inject({ ...trial, headers: { host: HOST, cookie, [CSRF_HEADER]: csrf } });
  t.equal(noOrigin.statusCode, 401, "a change must say where it comes from");
  const sameSite = await app.inject({ ...trial, headers: { host: HOST, cookie, [CSRF_HEADER]: csrf, origin: ORIGIN } });
  t.equal(sameSite.statusCode, 200);
});

t.test("a non-admin's session reads what its key may, and gets 403 for hidden inputs", async (t) => {
  const session = { host: HOST, cookie: `${SESSION_COOKIE}=${encodeURIComponent(reader.secret)}`, [CSRF_HEADER]: csrfToken(reader.secret) };
  t.equal((await app.inject({ url: "/v1/assignments/gradient-checking", headers: session })).statusCode, 200);
  const hidden = await app.inject({ url: "/v1/assignments/gradient-checking/cases", headers: session });
  t.equal(hidden.statusCode, 403);
  t.equal(hidden.json().error.code, "forbidden");
  t.match((await app.inject({ url: "/console", headers: session })).body, "(not an admin)");
});

t.test("signing out clears the cookie", async (t) => {
  const response = await app.inject({ method: "POST", url: "/console/logout", headers: { host: HOST, origin: ORIGIN, cookie } });
  t.equal(response.statusCode, 303);
  t.match(String(response.headers["set-cookie"]), /gradebox_console=;.*Max-Age=0/);
});
