import { settings } from "../src/config.js";

/** Prints the README's configuration table from the one config schema (`npm run docs:config`). */
export function configTable(): string {
  const rows = Object.entries(settings).map(([name, s]) => {
    const shown = s.default === "" ? "(empty)" : `\`${String(s.default)}\``;
    return `| \`${name}\` | ${shown} | ${s.unit === "" ? "" : s.unit} | ${s.description} |`;
  });
  return ["| Variable | Default | Unit | Meaning |", "|---|---|---|---|", ...rows].join("\n");
}

if (process.argv[1]?.endsWith("config-table.js")) process.stdout.write(`${configTable()}\n`);
