import path from "node:path";
import t from "tap";
import { root } from "./helpers/app.js";
import { importCycles, importGraph, reachable, specifiers } from "./helpers/import-graph.js";

t.test("no module in src/ imports itself through others, type-only imports included", async (t) => {
  const src = path.join(root, "src");
  const graph = importGraph(src);
  t.ok(graph.size > 30, `the check read the source tree (${graph.size} modules)`);
  const cycles = importCycles(graph).map((cycle) => [...cycle, cycle[0]].map((file) => path.relative(src, file as string)).join(" → "));
  t.same(cycles, [], "import cycles in src/");
});

t.test("the cycle check finds a cycle, including one made by a type-only import", async (t) => {
  const graph = new Map([
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts"]],
    ["c.ts", ["a.ts"]],
    ["d.ts", ["a.ts"]],
    ["e.ts", ["e.ts"]],
  ]);
  t.same(importCycles(graph), [["a.ts", "b.ts", "c.ts"], ["e.ts"]]);
  t.same(importCycles(new Map([["a.ts", ["b.ts"]], ["b.ts", []]])), []);
  const typeOnly = importGraph(path.join(root, "test", "fixtures", "import-cycle"));
  t.equal(importCycles(typeOnly).length, 1, "two modules that import each other's types form a cycle");
});

t.test("the HTTP process never loads isolated-vm: only the grading worker does, so only it needs --no-node-snapshot", async (t) => {
  const src = path.join(root, "src");
  const graph = importGraph(src);
  const loading = [...graph.keys()].filter((file) => specifiers(file).includes("isolated-vm")).map((file) => path.relative(src, file));
  t.same(loading, ["sandbox/isolate-session.ts"], "one module owns the host side of the isolate");
  const server = [...reachable(graph, path.join(src, "server.ts"))].map((file) => path.relative(src, file));
  t.notOk(server.includes("sandbox/isolate-session.ts"), "the server's modules do not reach it");
  t.ok(server.includes("sandbox/pool.ts"), "the server's modules reach the pool, which forks the workers");
  t.ok(reachable(graph, path.join(src, "sandbox", "worker.ts")).has(path.join(src, "sandbox", "isolate-session.ts")), "the worker's do");
});
