import type { PackStore } from "../store.js";
import { toStoredPack, type PackRow } from "../rows.js";
import type { Database } from "./database.js";
import * as sql from "./queries.js";
import { bind } from "./statement.js";

/**
 * The packs installed through the API, on PostgreSQL: the same behaviour as the SQLite engine's,
 * against the shared store suite. Saving one notifies every node (`p:<id>`) in the same statement.
 */
export function postgresPacks(db: Database): PackStore {
  return {
    async savePack(pack) {
      const row = (await db.query<PackRow>(bind(sql.savePack, { id: pack.id, version: pack.version, files: JSON.stringify(pack.files), installedAt: pack.installedAt }))).rows[0];
      return toStoredPack(row as PackRow);
    },
    async installedPacks() {
      return (await db.query<PackRow>(bind(sql.allPacks))).rows.map(toStoredPack);
    },
    async installedPack(id) {
      const row = (await db.query<PackRow>(bind(sql.packById, { id }))).rows[0];
      return row === undefined ? undefined : toStoredPack(row);
    },
  };
}
