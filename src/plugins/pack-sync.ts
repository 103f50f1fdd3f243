import fp from "fastify-plugin";
import { PackSync } from "../packs/sync.js";

/**
 * Packs installed through the API on any node become live on this one (src/packs/sync.ts). Registered
 * after the store: the packs plugin loads GRADERS_DIR first, then the stored packs win over it,
 * before the app answers anything or claims work.
 */
export default fp(async (fastify) => {
  const sync = new PackSync(fastify.packs, fastify.store, fastify.log.child({ component: "packs" }));
  fastify.addHook("onClose", async () => sync.close());
  await sync.start();
}, { name: "pack-sync", dependencies: ["packs", "store"] });
