import t from "tap";
import request from "supertest";
import { buildApp } from "../helpers/app.js";
import { schemas } from "../../src/schemas.js";

// Issue 6, integration: an OpenAPI 3 document generated from the JSON Schemas that validate requests, and a
// browsable page, both served by the service itself (nothing fetched at run time).

const app = await buildApp({ ADMIN_TOKEN: "secret-token" });
t.teardown(() => app.close());

t.test("GET /openapi.json is an OpenAPI 3 document of every route, built from the request and feedback schemas", async (t) => {
  const response = await request(app.server).get("/openapi.json");
  t.equal(response.status, 200);
  const doc = response.body as {
    openapi: string;
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref: string } }> }; parameters?: Array<{ name: string; in: string }>; responses: Record<string, unknown> }>>;
    components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
  };
  t.match(doc.openapi, /^3\./);
  t.same(Object.keys(doc.paths).sort(), ["/health", "/health/live", "/health/ready", "/metrics", "/v1/assignments", "/v1/assignments/{id}", "/v1/assignments/{id}/activity", "/v1/assignments/{id}/cases", "/v1/assignments/{id}/helpers/{specifier}", "/v1/assignments/{id}/matrix", "/v1/assignments/{id}/pack", "/v1/assignments/{id}/regrades", "/v1/assignments/{id}/starter", "/v1/assignments/{id}/trials", "/v1/regrades/{id}", "/v1/submissions", "/v1/submissions/{id}", "/v1/submissions/{id}/source"]);
  const regrade = doc.paths["/v1/regrades/{id}"];
  t.ok(regrade?.get?.responses["200"] && regrade.delete?.responses["200"], "a regrade's answer is documented for GET and DELETE");
  t.ok(doc.paths["/v1/assignments/{id}/regrades"]?.post?.responses["202"], "starting a regrade answers 202, documented");
  t.ok(doc.paths["/v1/assignments/{id}"]?.put, "the install route is documented when it exists");
  const post = doc.paths["/v1/submissions"]?.post;
  const ref = post?.requestBody?.content["application/json"]?.schema.$ref ?? "";
  const requestSchema = doc.components.schemas[ref.replace("#/components/schemas/", "")];
  t.same(Object.keys(requestSchema?.properties ?? {}).sort(), Object.keys(schemas.submissionRequest.properties as object).sort(), "the request body is submission-request.schema.json");
  t.ok(post?.parameters?.some((p) => p.name === "format" && p.in === "query"), "?format= is documented");
  t.ok(post?.parameters?.some((p) => p.name === "idempotency-key" && p.in === "header"), "Idempotency-Key is documented");
  t.ok(post?.parameters?.some((p) => p.name === "prefer" && p.in === "header"), "Prefer: respond-async is documented");
  t.same(Object.keys(post?.responses ?? {}).sort(), ["200", "202", "400", "404", "409", "413", "415", "503"]);
  t.ok(doc.paths["/v1/submissions"]?.get, "the list is documented");
  const feedback = Object.values(doc.components.schemas).find((s) => s.properties !== undefined && "summary" in s.properties && "exercises" in s.properties);
  t.ok(feedback, "the feedback schema is a component");
});

t.test("GET /docs serves the browsable API page from the installed package", async (t) => {
  const page = await request(app.server).get("/docs");
  t.equal(page.status, 200);
  t.match(page.headers["content-type"], /text\/html/);
  t.match(page.text, /swagger-ui/i);
  const initializer = await request(app.server).get("/docs/static/swagger-initializer.js");
  t.equal(initializer.status, 200, "its scripts are served too");
});
