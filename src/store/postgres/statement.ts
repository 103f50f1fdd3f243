import type pg from "pg";

/**
 * A SQL statement written with named parameters (@name), as the SQLite engine's are, turned once into
 * PostgreSQL's positional ones ($1…). The name also makes it a prepared statement: each pooled
 * connection parses and plans it once, then only binds values.
 */
export interface Statement {
  name: string;
  text: string;
  params: readonly string[];
}

export function statement(name: string, text: string): Statement {
  const params: string[] = [];
  const positional = text.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_match, param: string) => {
    let index = params.indexOf(param);
    if (index === -1) index = params.push(param) - 1;
    return `$${index + 1}`;
  });
  return { name: `gradebox_${name}`, text: positional, params };
}

/** The statement with these values bound; a parameter left out is bound as NULL. */
export function bind(s: Statement, values: Record<string, unknown> = {}): pg.QueryConfig {
  return { name: s.name, text: s.text, values: s.params.map((p) => values[p] ?? null) };
}
