import t from "tap";
import { errorCatalog } from "../src/errors.js";
import { schemas } from "../src/schemas.js";
import { readRepoFile } from "./helpers/files.js";

t.test("every error code the API can answer is documented, in the error schema and in the README", async (t) => {
  const schemaText = JSON.stringify(schemas.error);
  const readme = readRepoFile("README.md");
  for (const [code, { status }] of Object.entries(errorCatalog)) {
    t.ok(schemaText.includes(code), `${code} is listed in error.schema.json`);
    t.ok(readme.includes(`\`${code}\``), `${code} is in the README's error table`);
    t.ok(status >= 400 && status < 600, `${code} has an error status`);
  }
});
