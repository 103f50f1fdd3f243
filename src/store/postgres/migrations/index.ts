import m001 from "./001-submissions.js";
import m002 from "./002-regrades.js";
import m003 from "./003-regrade-leases.js";
import m004 from "./004-packs.js";

/**
 * The PostgreSQL schema's migrations, in order: the same versions as SQLite's (src/store/sqlite/
 * migrations), each written in PostgreSQL's dialect. A migration is never edited once released: a
 * change is a new file with the next number, in both engines.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [m001, m002, m003, m004];
