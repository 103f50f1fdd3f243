// Bundles the instructor console's client code (console/src, TypeScript) with CodeMirror 6 and
// Observable Plot from node_modules into dist/console/, which the service serves under /console/assets.
// Run by `npm run build`: nothing is fetched at run time.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(root, "dist", "console");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(root, "console", "src", "main.ts")],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  outfile: path.join(out, "console.js"),
  logLevel: "warning",
});
copyFileSync(path.join(root, "console", "console.css"), path.join(out, "console.css"));
