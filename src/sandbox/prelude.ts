import type { TextLimits } from "./constants.js";

/**
 * The code that runs INSIDE the isolate, before any student code. It is half of the trust boundary
 * (the other half is isolate-session.ts): only strings cross between them.
 *
 * `prelude` is never called in Node. Its source text (`Function.prototype.toString`) is evaluated in
 * a fresh context, so it must not refer to anything outside its own body. It returns the harness,
 * one function the host calls with an operation name:
 *
 *   harness("bind", probeNamespace)            → "ok" | outcome   remember the submission's exports
 *   harness("invoke", exportName, argsJson, watchArgs)
 *                                              → outcome (JSON)   call one graded function; with watchArgs,
 *                                                                  a value outcome also carries the
 *                                                                  arguments as they are after the call
 *   harness("settle")                          → outcome (JSON)   the promise the last call returned
 *   harness("output")                          → {text, dropped}  console output since the last take,
 *                                                                  and how many lines did not fit
 *
 * Why it is written this way:
 * - Every intrinsic it uses is captured here, before student code can replace `JSON`, `Math`,
 *   `Function.prototype.call`, `Promise.prototype.then` or pollute `Object.prototype`.
 * - Results are turned into JSON text here, inside the timed call, reading properties through
 *   descriptors (never running getters, `toJSON`, `valueOf`, `toString` or `Symbol.toPrimitive`), so the
 *   host only ever copies a string. isolated-vm's own copy of an object would run the student's getters
 *   on the host thread, outside any timeout.
 * - It never writes to an array or an object that inherits from a prototype the student can reach:
 *   a setter planted on `Array.prototype[0]` would otherwise run. Text is built by string concatenation.
 * - Thrown values are described here too (name, message, stack as bounded strings): their getters
 *   then run under the call's timeout.
 */

export interface PreludeOptions {
  /** Characters of console output buffered between two takes. */
  outputLimit: number;
  /** Characters of JSON a returned value may produce. */
  resultLimit: number;
  /** Deepest nesting of a returned value. */
  maxDepth: number;
  /** Globals to keep that the prelude would otherwise remove. */
  keepGlobals: string[];
  /** How much of an error's or a value's text is kept (constants.ts's TEXT_LIMITS: this function cannot import). */
  textLimits: TextLimits;
}

export function prelude(options: PreludeOptions): (op: string, a?: unknown, b?: unknown, c?: unknown) => string {
  "use strict";
  const G = globalThis as unknown as Record<string, unknown>;
  const apply = Reflect.apply;
  const ownKeys = Reflect.ownKeys;
  const getOwnDesc = Object.getOwnPropertyDescriptor;
  const getProto = Object.getPrototypeOf;
  const hasOwn = Object.hasOwn;
  const defineProperty = Object.defineProperty;
  const freeze = Object.freeze;
  const isArray = Array.isArray;
  const ObjectProto = Object.prototype;
  const jsonStringify = JSON.stringify;
  const jsonParse = JSON.parse;
  const StringCtor = String;
  const stringSlice = String.prototype.slice;
  const charCodeAt = String.prototype.charCodeAt;
  const promiseThen = Promise.prototype.then;
  const numberValueOf = Number.prototype.valueOf;
  const stringValueOf = String.prototype.valueOf;
  const booleanValueOf = Boolean.prototype.valueOf;
  const bigintValueOf = BigInt.prototype.valueOf;
  const symbolValueOf = Symbol.prototype.valueOf;
  const typedArrayTagGetter = (getOwnDesc(getProto(Uint8Array.prototype), Symbol.toStringTag) as PropertyDescriptor).get as () => string | undefined;
  const WeakSetCtor = WeakSet;
  const weakSetAdd = WeakSet.prototype.add;
  const weakSetHas = WeakSet.prototype.has;
  const weakSetDelete = WeakSet.prototype.delete;

  const outputLimit = options.outputLimit;
  const resultLimit = options.resultLimit;
  const maxDepth = options.maxDepth;
  const textLimits = options.textLimits;

  // Nothing any pack needs, and each is a known way to block a thread or to get at raw memory.
  const removable = ["WebAssembly", "SharedArrayBuffer", "Atomics"];
  for (let i = 0; i < removable.length; i++) {
    const name = removable[i] as string;
    let keep = false;
    for (let j = 0; j < options.keepGlobals.length; j++) if (options.keepGlobals[j] === name) keep = true;
    if (!keep) delete G[name];
  }

  const TOO_LARGE = freeze({});
  const TOO_DEEP = freeze({});

  function truncate(text: string, max: number): string {
    return text.length > max ? apply(stringSlice, text, [0, max]) + "…" : text;
  }

  function quote(text: string): string {
    return jsonStringify(text);
  }

  function functionName(fn: unknown): string {
    const d = getOwnDesc(fn as object, "name");
    return d !== undefined && hasOwn(d, "value") && typeof d.value === "string" ? truncate(d.value, textLimits.functionName) : "";
  }

  /** The name of an object's class, read from descriptors only. */
  function className(value: object): string {
    const proto = getProto(value);
    if (proto === null) return "Object";
    const d = getOwnDesc(proto, "constructor");
    if (d !== undefined && hasOwn(d, "value") && typeof d.value === "function") return functionName(d.value) || "anonymous class";
    return "Object";
  }

  function boxedPrimitive(value: object): [string, unknown] | undefined {
    try { return ["number", apply(numberValueOf, value, [])]; } catch { /* not a Number */ }
    try { return ["string", apply(stringValueOf, value, [])]; } catch { /* not a String */ }
    try { return ["boolean", apply(booleanValueOf, value, [])]; } catch { /* not a Boolean */ }
    try { return ["bigint", apply(bigintValueOf, value, [])]; } catch { /* not a BigInt */ }
    try { apply(symbolValueOf, value, []); return ["symbol", undefined]; } catch { /* not a Symbol */ }
    return undefined;
  }

  function primitiveText(value: unknown): string {
    switch (typeof value) {
      case "string": return value;
      case "number": return value === 0 && 1 / value < 0 ? "-0" : "" + value;
      case "bigint": return "" + value + "n";
      case "symbol": return StringCtor(value);
      case "undefined": return "undefined";
      case "boolean": return value ? "true" : "false";
      default: return value === null ? "null" : "";
    }
  }

  // ---- results: any value → bounded JSON "snapshot" text ------------------------------------------
  // Finite numbers, strings, booleans, null and arrays are plain JSON; everything else is a tagged
  // object {"$": kind, …}. A plain object is {"$":"object","v":{…}}, so no raw JSON object is ambiguous.

  function snapshot(root: unknown): string {
    let text = "";
    const seen = new WeakSetCtor<object>();
    function emit(piece: string): void {
      if (text.length + piece.length > resultLimit) throw TOO_LARGE;
      text += piece;
    }
    function walk(value: unknown, depth: number): void {
      switch (typeof value) {
        case "number":
          if (value !== value) emit('{"$":"number","v":"NaN"}');
          else if (value === Infinity) emit('{"$":"number","v":"Infinity"}');
          else if (value === -Infinity) emit('{"$":"number","v":"-Infinity"}');
          else emit("" + value);
          return;
        case "string":
          if (value.length > resultLimit) throw TOO_LARGE;
          emit(quote(value));
          return;
        case "boolean": emit(value ? "true" : "false"); return;
        case "undefined": emit('{"$":"undefined"}'); return;
        case "bigint": {
          const digits = "" + value;
          if (digits.length > resultLimit) throw TOO_LARGE;
          emit('{"$":"bigint","v":' + quote(digits) + "}");
          return;
        }
        case "symbol": emit('{"$":"symbol"}'); return;
        case "function": emit('{"$":"function","name":' + quote(functionName(value)) + "}"); return;
        default:
          if (value === null) { emit("null"); return; }
          walkObject(value as object, depth);
      }
    }
    function walkProperty(owner: object, key: string, depth: number): void {
      const d = getOwnDesc(owner, key);
      if (d === undefined) emit('{"$":"hole"}');
      else if (hasOwn(d, "get") || hasOwn(d, "set")) emit('{"$":"accessor"}');
      else walk(d.value, depth);
    }
    function walkObject(value: object, depth: number): void {
      if (depth >= maxDepth) throw TOO_DEEP;
      if (apply(weakSetHas, seen, [value])) { emit('{"$":"cycle"}'); return; }
      if (isArray(value)) {
        const lengthDesc = getOwnDesc(value, "length");
        const length = lengthDesc !== undefined && typeof lengthDesc.value === "number" ? lengthDesc.value : 0;
        // Each element needs at least two characters: refuse a huge array before walking it.
        if (length * 2 > resultLimit - text.length) throw TOO_LARGE;
        apply(weakSetAdd, seen, [value]);
        emit("[");
        for (let i = 0; i < length; i++) {
          if (i > 0) emit(",");
          walkProperty(value, "" + i, depth + 1);
        }
        emit("]");
        apply(weakSetDelete, seen, [value]);
        return;
      }
      const proto = getProto(value);
      if (proto !== ObjectProto && proto !== null) {
        const tag = apply(typedArrayTagGetter, value, []);
        if (tag !== undefined) { emit('{"$":"instance","class":' + quote(tag) + "}"); return; }
        const boxed = boxedPrimitive(value);
        if (boxed !== undefined) {
          emit('{"$":"boxed","type":"' + boxed[0] + '","v":' + quote(truncate(primitiveText(boxed[1]), textLimits.boxedValue)) + "}");
          return;
        }
        emit('{"$":"instance","class":' + quote(className(value)) + "}");
        return;
      }
      const keys = ownKeys(value);
      if (keys.length * 4 > resultLimit - text.length) throw TOO_LARGE;
      apply(weakSetAdd, seen, [value]);
      emit('{"$":"object","v":{');
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        if (typeof key !== "string") continue;
        const d = getOwnDesc(value, key);
        if (d === undefined || d.enumerable !== true) continue;
        emit((first ? "" : ",") + quote(key) + ":");
        first = false;
        if (hasOwn(d, "get") || hasOwn(d, "set")) emit('{"$":"accessor"}');
        else walk(d.value, depth + 1);
      }
      emit("}}");
      apply(weakSetDelete, seen, [value]);
    }
    walk(root, 0);
    return text;
  }

  function describeThrown(error: unknown, during: string): string {
    let name = "";
    let message = "";
    let stack = "";
    if (error !== null && (typeof error === "object" || typeof error === "function")) {
      try { const n = (error as { name?: unknown }).name; if (typeof n === "string") name = truncate(n, textLimits.errorName); } catch { /* a throwing getter */ }
      try {
        const m = (error as { message?: unknown }).message;
        if (typeof m === "string") message = truncate(m, textLimits.errorMessage);
        else if (m !== undefined && (m === null || typeof m !== "object")) message = truncate(primitiveText(m), textLimits.errorMessage);
      } catch { /* a throwing getter */ }
      try { const s = (error as { stack?: unknown }).stack; if (typeof s === "string") stack = truncate(s, textLimits.errorStack); } catch { /* a throwing getter or prepareStackTrace */ }
      if (name === "") { try { name = className(error as object); } catch { name = "Object"; } }
    } else {
      name = typeof error;
      message = truncate(primitiveText(error), textLimits.errorMessage);
    }
    return '{"kind":"threw","during":"' + during + '","error":{"name":' + quote(name) + ',"message":' + quote(message) + ',"stack":' + quote(stack) + "}}";
  }

  // The arguments of the current call, when the case checks them after the call (argsAfter).
  let watchedArgs: { args: unknown } | undefined;

  function valueOutcome(value: unknown): string {
    try {
      const text = '{"kind":"value","value":' + snapshot(value);
      if (watchedArgs === undefined) return text + "}";
      let argsText: string;
      // Arguments too large or too deep to read back cannot be shown unchanged: the check fails.
      try { argsText = snapshot(watchedArgs.args); } catch { return text + "}"; }
      return text + ',"args":' + argsText + "}";
    } catch (e) {
      if (e === TOO_LARGE) return '{"kind":"unserializable","reason":"too-large"}';
      if (e === TOO_DEEP) return '{"kind":"unserializable","reason":"too-deep"}';
      return describeThrown(e, "result");
    }
  }

  // ---- console ------------------------------------------------------------------------------------

  let output = "";
  let dropped = 0;

  /** Appends a line, or counts it as dropped once the buffer is full (a console flood stays cheap). */
  function write(line: string): void {
    const room = outputLimit - output.length;
    if (line.length + 1 > room) {
      if (room > 0) output += apply(stringSlice, line, [0, room]);
      dropped += 1;
      return;
    }
    output += line + "\n";
  }

  function inspect(value: unknown, depth: number): string {
    if (value === null || (typeof value !== "object" && typeof value !== "function")) {
      return typeof value === "string" && depth > 0 ? quote(value) : primitiveText(value);
    }
    if (typeof value === "function") return "[Function: " + (functionName(value) || "anonymous") + "]";
    if (depth > 3) return isArray(value) ? "[Array]" : "[Object]";
    if (isArray(value)) {
      const lengthDesc = getOwnDesc(value, "length");
      const length = lengthDesc !== undefined && typeof lengthDesc.value === "number" ? lengthDesc.value : 0;
      let text = "[";
      for (let i = 0; i < length && i < 100; i++) {
        const d = getOwnDesc(value, "" + i);
        text += (i > 0 ? ", " : "") + (d === undefined ? "<empty>" : hasOwn(d, "value") ? inspect(d.value, depth + 1) : "[Getter]");
      }
      return text + (length > 100 ? ", … " + (length - 100) + " more]" : "]");
    }
    const proto = getProto(value);
    if (proto !== ObjectProto && proto !== null) return "[" + className(value) + "]";
    const keys = ownKeys(value);
    let text = "{";
    let shown = 0;
    for (let i = 0; i < keys.length && shown < 50; i++) {
      const key = keys[i];
      if (typeof key !== "string") continue;
      const d = getOwnDesc(value, key);
      if (d === undefined || d.enumerable !== true) continue;
      text += (shown > 0 ? ", " : " ") + key + ": " + (hasOwn(d, "value") ? inspect(d.value, depth + 1) : "[Getter]");
      shown++;
    }
    return text + (shown > 0 ? " }" : "}");
  }

  /** Node's console.log formatting, for the specifiers students use. */
  function format(args: unknown[]): string {
    let text = "";
    let next = 0;
    const first = args[0];
    if (typeof first === "string" && args.length > 1) {
      next = 1;
      for (let i = 0; i < first.length; i++) {
        const c = apply(charCodeAt, first, [i]);
        const spec = i + 1 < first.length ? apply(charCodeAt, first, [i + 1]) : 0;
        if (c === 37 /* % */ && spec === 37) { text += "%"; i++; continue; }
        if (c === 37 && next < args.length && (spec === 115 || spec === 100 || spec === 105 || spec === 102 || spec === 106 || spec === 111 || spec === 79)) {
          const arg = args[next++];
          if (spec === 100 || spec === 105 || spec === 102) text += typeof arg === "number" || typeof arg === "bigint" ? primitiveText(arg) : "NaN";
          else text += inspect(arg, 0);
          i++;
          continue;
        }
        text += first[i];
        if (text.length > outputLimit) break;
      }
    } else if (args.length > 0) {
      next = 1;
      text = inspect(first, 0);
    }
    for (; next < args.length && text.length <= outputLimit; next++) text += " " + inspect(args[next], 0);
    return text;
  }

  function log(...args: unknown[]): void {
    if (output.length >= outputLimit) { dropped += 1; return; }
    write(format(args));
  }

  const consoleObject = { log, info: log, warn: log, error: log, debug: log, trace: log };
  defineProperty(G, "console", { value: consoleObject, writable: true, configurable: true, enumerable: false });

  // ---- the harness ----------------------------------------------------------------------------------

  let exportsObject: object | undefined;
  let pending: { outcome: string | undefined } = { outcome: undefined };

  function bind(probe: unknown): string {
    const namespace = probe as { done: unknown; submission: object };
    try {
      // The probe module imports the submission and declares `done`; while the submission's
      // top-level await has not settled, `done` is still in its temporal dead zone.
      void namespace.done;
    } catch {
      return '{"kind":"never-settled"}';
    }
    exportsObject = namespace.submission;
    return "ok";
  }

  // JSON has no NaN or ±Infinity: case files write {"$number": "NaN"} and the like, decoded here.
  // Only an object whose one own key is "$number" with one of the three names is decoded.
  function reviveNumber(_key: string, value: unknown): unknown {
    if (value === null || typeof value !== "object" || isArray(value)) return value;
    const keys = ownKeys(value);
    if (keys.length !== 1 || keys[0] !== "$number") return value;
    const d = getOwnDesc(value, "$number");
    const name = d === undefined ? undefined : d.value;
    if (name === "NaN") return NaN;
    if (name === "Infinity") return Infinity;
    if (name === "-Infinity") return -Infinity;
    return value;
  }

  function invoke(exportName: string, argsJson: string, watchArgs: boolean): string {
    pending = { outcome: undefined };
    watchedArgs = undefined;
    let fn: unknown;
    try {
      const d = getOwnDesc(exportsObject as object, exportName);
      fn = d === undefined ? undefined : d.value;
    } catch (e) {
      return describeThrown(e, "load");
    }
    if (typeof fn !== "function") return '{"kind":"missing","type":"' + (fn === null ? "null" : typeof fn) + '"}';
    const args = jsonParse(argsJson, reviveNumber) as unknown[];
    if (watchArgs) watchedArgs = { args };
    let result: unknown;
    try {
      result = apply(fn as (...a: unknown[]) => unknown, undefined, args);
    } catch (e) {
      return describeThrown(e, "call");
    }
    if (result !== null && typeof result === "object") {
      // Only a native promise is awaited (the brand check throws for anything else, before any
      // student code runs); a thenable is just an object, graded as the wrong type.
      const record = pending;
      let isPromise = true;
      try {
        apply(promiseThen, result, [
          (value: unknown) => { record.outcome = valueOutcome(value); },
          (error: unknown) => { record.outcome = describeThrown(error, "call"); },
        ]);
      } catch {
        isPromise = false;
      }
      if (isPromise) return '{"kind":"pending"}';
    }
    return valueOutcome(result);
  }

  function settle(): string {
    return pending.outcome ?? '{"kind":"never-settled"}';
  }

  function takeOutput(): string {
    const taken = '{"text":' + quote(output) + ',"dropped":' + dropped + "}";
    output = "";
    dropped = 0;
    return taken;
  }

  return function harness(op: string, a?: unknown, b?: unknown, c?: unknown): string {
    switch (op) {
      case "bind": return bind(a);
      case "invoke": return invoke(a as string, b as string, c === true);
      case "settle": return settle();
      case "output": return takeOutput();
      default: return '{"kind":"unknown-op"}';
    }
  };
}

/** The prelude as source text: an expression that, called with the options, returns the harness. */
export const preludeSource = `(${prelude.toString()})`;
