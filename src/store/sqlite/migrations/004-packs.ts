/**
 * The packs installed through the API (PUT /v1/assignments/:id, a regrade that publishes): the last
 * install of each assignment id, whose files every node sharing the store makes live. `seq` is
 * counted up by every save, so a later install has a greater one.
 */
export default {
  version: 4,
  name: "packs",
  sql: `
CREATE TABLE packs (
  id TEXT PRIMARY KEY,
  version TEXT NOT NULL,
  files TEXT NOT NULL,
  installed_at INTEGER NOT NULL,
  seq INTEGER NOT NULL UNIQUE
);
`,
};
