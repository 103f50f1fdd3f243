import t from "tap";
import request from "supertest";
import { buildApp } from "../helpers/app.js";
import { schemas } from "../../src/schemas.js";
import { Ajv } from "ajv";
import { reference } from "./support.js";

// The default limits: these submissions are honest or wrong, never hostile, and a 25-call grading must
// not miss a 400 ms limit on a loaded machine.
const app = await buildApp();
t.teardown(() => app.close());

const post = (query = "") => request(app.server).post(`/v1/submissions${query}`);
const body = (extra: Record<string, unknown> = {}) => ({ assignment: "gradient-checking", source: reference, ...extra });
const validateFeedback = new Ajv({ strict: false }).addSchema(Object.values(schemas)).getSchema(schemas.feedback.$id);

t.test("without a format, and with format=native, the answer is the native feedback", async (t) => {
  for (const [query, extra] of [["", {}], ["?format=native", {}], ["", { format: "native" }]] as const) {
    const response = await post(query).send(body(extra));
    t.equal(response.status, 200);
    t.equal(response.body.score, 100, `${query} ${JSON.stringify(extra)}`);
    t.ok(validateFeedback?.(response.body), "it matches feedback.schema.json");
  }
});

t.test("the format in the query string and in the body may both be given if they agree", async (t) => {
  const response = await post("?format=xqueue").send(body({ format: "xqueue" }));
  t.equal(response.status, 200);
  t.same(Object.keys(response.body).sort(), ["correct", "msg", "score"]);
});

t.test("a format in the query string that differs from the body's is a 400 invalid_request naming both", async (t) => {
  const response = await post("?format=gradescope").send(body({ format: "coursera" }));
  t.equal(response.status, 400);
  t.equal(response.body.error.code, "invalid_request");
  t.match(response.body.error.message, /"gradescope" in the query string but "coursera" in the body/);
});

t.test("an unknown format is a 400 invalid_request, in the query string or in the body", async (t) => {
  for (const [query, extra] of [["?format=moodle", {}], ["", { format: "moodle" }], ["", { format: 1 }]] as const) {
    const response = await post(query).send(body(extra));
    t.equal(response.status, 400, `${query} ${JSON.stringify(extra)}`);
    t.equal(response.body.error.code, "invalid_request");
  }
});

t.test("an Idempotency-Key replay may ask for another format and gets the same grading in it", async (t) => {
  const first = await post().set("idempotency-key", "formats-replay").send(body());
  const again = await post("?format=gradescope").set("idempotency-key", "formats-replay").send(body());
  const third = await post().set("idempotency-key", "formats-replay").send(body({ format: "coursera" }));
  t.equal(first.status, 200);
  t.equal(again.status, 200, "the format is not part of the request's identity: no conflict");
  t.equal(again.headers["idempotent-replayed"], "true");
  t.equal(again.body.extra_data.gradebox.id, first.body.id, "the same grading, not a new one");
  t.equal(third.status, 200);
  t.equal(third.body.fractionalScore, 1);
});
