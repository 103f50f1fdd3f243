/**
 * As SQLite's 004: the last pack installed through the API for each assignment id, whose files every
 * node makes live. `seq` comes from a sequence, counted up by every save (a later install has a
 * greater one, whichever node saved it).
 */
export default {
  version: 4,
  name: "packs",
  sql: `
CREATE SEQUENCE packs_seq;
CREATE TABLE packs (
  id TEXT PRIMARY KEY,
  version TEXT NOT NULL,
  files TEXT NOT NULL,
  installed_at BIGINT NOT NULL,
  seq BIGINT NOT NULL UNIQUE DEFAULT nextval('packs_seq')
);
`,
};
