import t from "tap";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { root } from "../helpers/app.js";
import { readPackDir } from "../../src/packs/pack-files.js";
import { parsePack } from "../../src/packs/pack.js";

/**
 * The expected values of the gradient-checking cases came from the JS reference; this checks them
 * against numpy, with the seed's oracle (../shared/tools/oracle.py, or ORACLE_PY). gradient_check is
 * the same floating-point arithmetic in both, so it must agree to 1e-12; gradient_check_n's value
 * is mostly rounding noise at epsilon 1e-7 (numpy's BLAS and exp/log round differently from V8), so
 * it must agree to the notebook's own np.isclose tolerance (rtol 1e-5, atol 1e-8).
 */
const oracle = process.env.ORACLE_PY ?? path.resolve(root, "..", "shared", "tools", "oracle.py");

const script = `
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import oracle
out = []
for c in json.load(sys.stdin):
    a = c["args"]
    if c["exercise"] == "gradient_check":
        eps = a[2] if len(a) > 2 else 1e-7
        out.append(float(oracle.gradient_check(a[0], a[1], eps)))
    else:
        p = {k: np.array(v, dtype=float) for k, v in a[0].items()}
        g = {k: np.array(v, dtype=float) for k, v in a[1].items()}
        eps = a[4] if len(a) > 4 else 1e-7
        out.append(float(oracle.gradient_check_n(p, g, np.array(a[2], dtype=float), np.array(a[3], dtype=float), eps)))
json.dump(out, sys.stdout)
`;

function numpyAvailable(): Promise<boolean> {
  return new Promise((resolve) => execFile("python3", ["-c", "import numpy"], (error) => resolve(error === null)));
}

const available = existsSync(oracle) && (await numpyAvailable());
const skip = available ? false : `the numpy oracle is not available here (${oracle}, python3 with numpy)`;

t.test("every gradient_check and gradient_check_n case agrees with numpy's oracle", { skip }, async (t) => {
  const { pack } = parsePack(await readPackDir(path.join(root, "graders", "gradient-checking")));
  const cases = (pack?.cases ?? []).filter((c) => c.exercise === "gradient_check" || c.exercise === "gradient_check_n");
  t.ok(cases.length >= 12, `${cases.length} cases to cross-check`);
  const numpy = await new Promise<number[]>((resolve, reject) => {
    const child = execFile("python3", ["-c", script, path.dirname(oracle)], { maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as number[]);
    });
    child.stdin?.end(JSON.stringify(cases.map((c) => ({ exercise: c.exercise, args: c.args }))));
  });
  cases.forEach((testCase, i) => {
    const value = numpy[i] as number;
    const expected = testCase.expect.value !== undefined ? [testCase.expect.value as number] : (testCase.expect.anyOf as number[]);
    const [rtol, atol] = testCase.exercise === "gradient_check" ? [1e-12, 0] : [1e-5, 1e-8];
    const close = expected.some((e) => Math.abs(value - e) <= atol + rtol * Math.abs(e));
    t.ok(close, `${testCase.id}: numpy gives ${value}, the case expects ${expected.join(" or ")}`);
  });
});
