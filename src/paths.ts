import path from "node:path";
import { fileURLToPath } from "node:url";

/** The project root: compiled files live in dist/src, so it is two folders up. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
