import m001 from "./001-submissions.js";
import m002 from "./002-regrades.js";
import m003 from "./003-regrade-leases.js";
import m004 from "./004-packs.js";

/**
 * The SQLite schema's migrations, in order. They are TypeScript modules, not .sql files, so that
 * tsc ships them in dist/ (the Docker image copies only dist/src). A migration is never edited
 * once released: a change is a new file with the next number.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [m001, m002, m003, m004];
