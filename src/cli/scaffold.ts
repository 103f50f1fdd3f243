import { formatJson } from "../packs/format-json.js";
import type { PackFiles } from "../packs/types.js";

/**
 * The pack `gradebox-pack new <id>` writes: small, complete and valid, so an instructor starts from
 * something that passes `validate` and edits it into their assignment.
 */
export function scaffoldPack(id: string): PackFiles {
  const caseSchema = "../../../submissions-schema/pack/case.schema.json";
  const assignment = {
    $schema: "../../submissions-schema/pack/assignment.schema.json",
    id,
    title: "Mean of a list",
    version: "0.1.0",
    language: "javascript",
    description: "Export mean(values): the arithmetic mean of an array of numbers. You may import sum from \"stats\".",
    exercises: [{ name: "mean", title: "Exercise 1 - mean", points: 10, scoring: "all-or-nothing" }],
    imports: { stats: "helpers/stats.mjs" },
    reference: "reference/solution.mjs",
    starter: "starter/solution.mjs",
    mutants: [
      // The two forms of a mutant: the reference with a replacement (it says what it changes), and a file of its own.
      {
        id: "divides-by-n-minus-one",
        description: "divides by n - 1 (the sample-variance habit)",
        from: "reference/solution.mjs",
        replace: [{ find: "sum(values) / values.length", with: "sum(values) / (values.length - 1)" }],
        mustFail: ["mean"],
      },
      { file: "mutants/returns-sum.mjs", description: "forgets to divide", mustFail: ["mean"] },
    ],
  };
  const cases = [
    { id: "mean-small", visibility: "public", description: "mean([1, 2, 3, 4]) is 2.5", args: [[1, 2, 3, 4]], expect: { type: "number", value: 2.5 } },
    { id: "mean-one-value", visibility: "public", description: "the mean of one value is that value", args: [[7]], expect: { type: "number", value: 7 } },
    { id: "mean-negative", visibility: "hidden", args: [[-1, 5, 0.5]], expect: { type: "number", value: 1.5 } },
    { id: "mean-fractions", visibility: "hidden", args: [[0.1, 0.2, 0.3]], expect: { type: "number", reference: true, rtol: 1e-15 } },
  ];
  const files: PackFiles = new Map([
    ["assignment.json", `${formatJson(assignment)}\n`],
    ["helpers/stats.mjs", "/** The sum of an array of numbers. */\nexport function sum(values) {\n  let total = 0;\n  for (const v of values) total += v;\n  return total;\n}\n"],
    ["reference/solution.mjs", 'import { sum } from "stats";\n\nexport function mean(values) {\n  return sum(values) / values.length;\n}\n'],
    ["starter/solution.mjs", 'import { sum } from "stats";\n\n/** The arithmetic mean of `values`, an array of numbers. */\nexport function mean(values) {\n  // YOUR CODE STARTS HERE\n\n  // YOUR CODE ENDS HERE\n}\n'],
    ["mutants/returns-sum.mjs", '// MUTANT: forgets to divide.\nimport { sum } from "stats";\n\nexport function mean(values) {\n  return sum(values);\n}\n'],
  ]);
  for (const { id: caseId, ...rest } of cases) {
    files.set(`cases/${caseId}.json`, `${formatJson({ $schema: caseSchema, id: caseId, exercise: "mean", ...rest })}\n`);
  }
  return files;
}
