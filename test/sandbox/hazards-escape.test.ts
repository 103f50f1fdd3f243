import t from "tap";
import { buildApp, fastLimits } from "../helpers/app.js";
import { byId, HIDDEN_TEST_KEYS, hiddenAllFailed, hiddenTests, honestStillScores100, hostile, score, submit, waitForIdleWorkers, workers } from "./support.js";

// Issue 4, reaching out of the sandbox: require, static and dynamic imports of node builtins, probing the global
// object for anything from the host, and impersonating isolated-vm's own errors to get a verdict (and a worker
// restart) the submission did not earn.

const app = await buildApp({ ...fastLimits });
t.teardown(() => app.close());

/** The global object may hold only what ECMAScript (with ECMA-402 and Annex B) defines, plus console. */
const standardGlobals = new Set([
  "globalThis", "Infinity", "NaN", "undefined",
  "eval", "isFinite", "isNaN", "parseFloat", "parseInt", "decodeURI", "decodeURIComponent", "encodeURI", "encodeURIComponent", "escape", "unescape",
  "AggregateError", "Array", "ArrayBuffer", "BigInt", "BigInt64Array", "BigUint64Array", "Boolean", "DataView", "Date", "Error", "EvalError",
  "FinalizationRegistry", "Float16Array", "Float32Array", "Float64Array", "Function", "Int8Array", "Int16Array", "Int32Array", "Iterator", "Map", "Number",
  "Object", "Promise", "Proxy", "RangeError", "ReferenceError", "RegExp", "Set", "String", "Symbol", "SyntaxError", "TypeError",
  "Uint8Array", "Uint8ClampedArray", "Uint16Array", "Uint32Array", "URIError", "WeakMap", "WeakRef", "WeakSet",
  "JSON", "Math", "Reflect", "Intl",
]);

t.test("require (and module.require, process.mainModule) do not exist: each call is a ReferenceError", async (t) => {
  const { feedback } = await submit(t, app, hostile("require-builtin.mjs"));
  t.match(byId(feedback, "forward-notebook")?.message, /^forward_propagation threw ReferenceError: require is not defined \(line 3, column \d+\)$/);
  t.match(byId(feedback, "backward-notebook")?.message, /^backward_propagation threw ReferenceError: module is not defined/);
  t.match(byId(feedback, "gradient-check-notebook")?.message, /^gradient_check threw ReferenceError: process is not defined/);
  for (const id of ["forward-notebook", "backward-notebook", "gradient-check-notebook"]) t.equal(byId(feedback, id)?.status, "error");
  await honestStillScores100(t, app);
});

t.test("a static import of node:child_process is rejected with forbidden_import before any code runs", async (t) => {
  const { feedback } = await submit(t, app, hostile("import-builtin-static.mjs"));
  t.equal(feedback.status, "rejected");
  t.equal(feedback.reason?.code, "forbidden_import");
  t.equal(feedback.reason?.message, 'Cannot import "node:child_process": a submission may only import "gc_utils".');
  await honestStillScores100(t, app);
});

t.test("a dynamic import of a node builtin from a graded function is an error verdict (no module loader answers)", async (t) => {
  const { feedback } = await submit(t, app, hostile("import-builtin-dynamic.mjs"));
  t.equal(byId(feedback, "forward-notebook")?.status, "error");
  t.match(byId(feedback, "forward-notebook")?.message, /^forward_propagation threw Error: Not supported/);
  t.equal(byId(feedback, "backward-notebook")?.status, "error", "a returned import() promise rejects the same way");
  t.match(byId(feedback, "backward-notebook")?.message, /^backward_propagation threw Error: Not supported/);
  await honestStillScores100(t, app);
});

t.test("a dynamic import of node:fs awaited at top level is rejected with module_threw", async (t) => {
  const { feedback } = await submit(t, app, hostile("import-builtin-dynamic-at-top-level.mjs"));
  t.equal(feedback.status, "rejected");
  t.equal(feedback.reason?.code, "module_threw");
  t.match(feedback.reason?.message, /^The module's top-level code threw Error: Not supported/);
  t.equal(feedback.reason?.line, 2);
  await honestStillScores100(t, app);
});

t.test("the global object holds only standard ECMAScript globals plus console: nothing from node or isolated-vm", async (t) => {
  const { feedback } = await submit(t, app, hostile("probes-globals.mjs"));
  t.equal(byId(feedback, "forward-notebook")?.status, "passed");
  const found = JSON.parse(feedback.output.trim()) as {
    names: string[]; symbols: string[]; probes: Record<string, string>;
    fromFunction: string; fromConstructor: string; fromEval: string; fromAsyncFunction: string; meta: string[]; thisAtTop: string;
  };
  t.ok(found.names.includes("console"), "console is there");
  t.same(found.names.filter((name) => name !== "console" && !standardGlobals.has(name)), [], "every other own property of globalThis is a standard global");
  for (const name of ["SharedArrayBuffer", "Atomics", "WebAssembly"]) t.notOk(found.names.includes(name), `${name} was removed`);
  t.same(found.symbols, [], "no symbol-keyed globals");
  t.same(Object.entries(found.probes).filter(([, type]) => type !== "undefined"), [], "process, require, Buffer, timers, fetch, ivm… are all undefined");
  t.equal(found.fromFunction, "ReferenceError", "code built by Function() sees the same global: no process there either");
  t.equal(found.fromConstructor, "object", "the Function constructor reached through a prototype yields the sandbox's own global");
  t.equal(found.fromEval, "undefined", "eval sees no process");
  t.same(found.meta, [], "import.meta is empty");
  t.equal(found.thisAtTop, "undefined", "this at module top level is undefined");
  await honestStillScores100(t, app);
});

t.test("a top-level throw that impersonates isolated-vm's memory-limit error is module_threw, not module_memory, and no worker restarts", async (t) => {
  const before = await waitForIdleWorkers(app, 2);
  const { feedback } = await submit(t, app, hostile("impersonates-isolated-vm-errors.mjs"));
  t.equal(feedback.status, "rejected");
  t.equal(feedback.reason?.code, "module_threw");
  t.equal(feedback.reason?.message, "The module's top-level code threw Error: Isolate was disposed during execution due to memory limit (line 3, column 7)");
  const after = await workers(app);
  t.equal(after.ready, before.ready, "the worker was not retired (a real memory-limit error would have)");
  await honestStillScores100(t, app);
});

t.test("rejections left behind that impersonate isolated-vm's memory and timeout errors are errors on that call only", async (t) => {
  const { feedback, ms } = await submit(t, app, hostile("impersonates-isolated-vm-errors-in-calls.mjs"));
  t.ok(ms < 2000, `answered in ${ms} ms`);
  t.equal(byId(feedback, "forward-notebook")?.status, "error", "not memory");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation threw Error: Isolate was disposed during execution due to memory limit (line 4, column 18)");
  t.equal(byId(feedback, "backward-notebook")?.status, "error", "not timeout");
  t.equal(byId(feedback, "backward-notebook")?.message, "backward_propagation threw Error: Script execution timed out. (line 9, column 18)");
  hiddenAllFailed(t, feedback, "backward_propagation");
  t.equal(score(feedback, "gradient_check"), 0, "gradient_check ran (and is simply wrong)");
  t.equal(byId(feedback, "gradient-check-notebook")?.status, "failed");
  await honestStillScores100(t, app);
});
