import type { LoadOutcome } from "../sandbox/outcomes.js";

/**
 * TypeScript submissions are graded as the JavaScript left once their types are blanked out by
 * ts-blank-space (Bloomberg's type stripper over the official TypeScript parser). Every type becomes
 * spaces, so each line and column of the JavaScript is the same line and column of the TypeScript:
 * the sandbox's positions need no source map. TypeScript with runtime semantics (enum, namespace,
 * parameter properties…) cannot be blanked and is refused with its position.
 * The service runs this in the threads of strip-pool.ts, which load the parser (~10 MB of code) when
 * they start; the command-line tool calls it directly.
 */

export type Stripped = { ok: true; source: string } | { ok: false; outcome: Extract<LoadOutcome, { kind: "unsupported-typescript" }> };

let tools: Promise<[typeof import("typescript"), typeof import("ts-blank-space")]> | undefined;

function load(): Promise<[typeof import("typescript"), typeof import("ts-blank-space")]> {
  tools ??= Promise.all([import("typescript"), import("ts-blank-space")]);
  return tools;
}

/** Loads the parser ahead of the first source. */
export async function loadTypeScript(): Promise<void> {
  await load();
}

function words(kindName: string): string {
  return kindName.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

export async function stripTypes(text: string): Promise<Stripped> {
  const [tsModule, blank] = await load();
  const ts = (tsModule as unknown as { default?: typeof import("typescript") }).default ?? tsModule;
  let unsupported: import("typescript").Node | undefined;
  let file: import("typescript").SourceFile;
  let source: string;
  try {
    file = ts.createSourceFile("submission.ts", text, ts.ScriptTarget.ESNext, true, ts.ScriptKind.TS);
    source = blank.blankSourceFile(file, (node) => {
      unsupported ??= node;
    });
  } catch (error) {
    // The parser and the stripper recurse: a few thousand nested brackets exhaust this process's stack,
    // which is an answer for the student, not a service fault.
    if (!(error instanceof RangeError)) throw error;
    return {
      ok: false,
      outcome: { kind: "unsupported-typescript", message: "This TypeScript nests too deeply to be parsed (brackets, parentheses or type arguments inside one another thousands of times).", line: 1, column: 1 },
    };
  }
  if (unsupported === undefined) return { ok: true, source };
  const start = file.getLineAndCharacterOfPosition(unsupported.getStart(file));
  const what = words(ts.SyntaxKind[unsupported.kind] ?? "syntax");
  return {
    ok: false,
    outcome: {
      kind: "unsupported-typescript",
      message: `This TypeScript (${what}) has runtime behaviour, so it cannot run once its types are removed; write it in plain JavaScript (an object instead of an enum, a function instead of a namespace, assignments instead of parameter properties).`,
      line: start.line + 1,
      column: start.character + 1,
    },
  };
}
