/**
 * np_lite: a very small numpy for the "Activation functions" assignment.
 *
 *   import { np } from "np_lite";
 *
 * How values are written (as in numpy):
 *   - a plain number is a scalar: 3.5;
 *   - a 2-D array is an array of rows of equal length: [[1, 2, 3], [4, 5, 6]] has shape [2, 3]
 *     (2 rows, 3 columns); a column vector of n values is [[a], [b], ...], shape [n, 1];
 *   - a flat array [1, 2, 3] is a 1-D array of shape [3].
 *
 * Elementwise functions accept any mix of these and broadcast like numpy: a number with an array,
 * a [1, m] row with an [n, m] array, an [n, 1] column with an [n, m] array, ...
 * They return a number when every input is a number, and a NEW array otherwise:
 * no function here ever changes its arguments.
 *
 *   np.exp(x)  np.negative(x)  np.add(a, b)  np.subtract(a, b)  np.multiply(a, b)  np.divide(a, b)
 *   np.maximum(a, b)  np.minimum(a, b)      elementwise
 *   np.max(x, axis, keepdims)  np.sum(x, axis, keepdims)
 *                                           reductions: axis undefined/null (everything), 0 (down each
 *                                           column, numpy's axis=0) or 1 (along each row); keepdims=true
 *                                           keeps the reduced axis with length 1, ready to broadcast.
 *                                           A plain number counts as a single value: np.max(5, 0) is 5.
 *   np.shape(x)  np.copy(x)  np.zeros(shape)
 *
 * Wrong inputs throw an Error whose message says which argument is wrong, like numpy's.
 */

function describe(value) {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

function formatShape(shape) {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(",")})`;
}

function checkNumber(value, label, position) {
  if (typeof value === "number") return value;
  if (position === "") throw new Error(`${label}: expected a number or an array of numbers, got ${describe(value)}`);
  throw new Error(`${label}: expected numbers only, but element ${position} is ${describe(value)}`);
}

/** Reads a number, a 1-D or a 2-D array into { shape, data } (data row by row). */
function read(x, label) {
  if (!Array.isArray(x)) return { shape: [], data: [checkNumber(x, label, "")] };
  if (x.length > 0 && Array.isArray(x[0])) {
    const cols = x[0].length;
    const data = [];
    for (let i = 0; i < x.length; i++) {
      const row = x[i];
      if (!Array.isArray(row)) throw new Error(`${label}: row ${i} is ${describe(row)}, but row 0 is an array: every row must be an array of numbers`);
      if (row.length !== cols) throw new Error(`${label}: rows of different lengths (row 0 has ${cols} numbers, row ${i} has ${row.length}): a 2-D array must be rectangular`);
      for (let j = 0; j < cols; j++) {
        if (Array.isArray(row[j])) throw new Error(`${label}: element [${i}][${j}] is an array: np_lite handles numbers, 1-D and 2-D arrays only`);
        data.push(checkNumber(row[j], label, `[${i}][${j}]`));
      }
    }
    return { shape: [x.length, cols], data };
  }
  const data = [];
  for (let i = 0; i < x.length; i++) {
    if (Array.isArray(x[i])) throw new Error(`${label}: element [${i}] is an array but element [0] is not: a 2-D array is an array of rows`);
    data.push(checkNumber(x[i], label, `[${i}]`));
  }
  return { shape: [x.length], data };
}

/** Builds a number or a nested array from { shape, data }. */
function build(shape, data) {
  if (shape.length === 0) return data[0];
  if (shape.length === 1) return data.slice();
  const [rows, cols] = shape;
  const out = [];
  for (let i = 0; i < rows; i++) out.push(data.slice(i * cols, (i + 1) * cols));
  return out;
}

/** numpy's broadcasting of two shapes of rank <= 2. */
function broadcastShape(a, b, name) {
  const rank = Math.max(a.length, b.length);
  const shape = [];
  for (let k = 0; k < rank; k++) {
    const da = a.length - rank + k >= 0 ? a[a.length - rank + k] : 1;
    const db = b.length - rank + k >= 0 ? b[b.length - rank + k] : 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`np.${name}(): operands could not be broadcast together with shapes ${formatShape(a)} ${formatShape(b)}`);
    }
    shape.push(da === 1 ? db : da);
  }
  return shape;
}

/** The index into `data` of an array of shape `own` for position (i, j) of a broadcast result of `shape`. */
function indexer(own, shape) {
  const rank = shape.length;
  const dims = [];
  for (let k = 0; k < rank; k++) dims.push(own.length - rank + k >= 0 ? own[own.length - rank + k] : 1);
  if (rank === 0) return () => 0;
  if (rank === 1) return (i) => (dims[0] === 1 ? 0 : i);
  return (i, j) => (dims[0] === 1 ? 0 : i) * dims[1] + (dims[1] === 1 ? 0 : j);
}

function unary(name, f) {
  return (x) => {
    const a = read(x, `np.${name}() argument`);
    return build(a.shape, a.data.map((v) => f(v)));
  };
}

function binary(name, f) {
  return (x, y) => {
    const a = read(x, `np.${name}() argument 1`);
    const b = read(y, `np.${name}() argument 2`);
    const shape = broadcastShape(a.shape, b.shape, name);
    const ia = indexer(a.shape, shape);
    const ib = indexer(b.shape, shape);
    const data = [];
    if (shape.length === 0) data.push(f(a.data[0], b.data[0]));
    else if (shape.length === 1) for (let i = 0; i < shape[0]; i++) data.push(f(a.data[ia(i)], b.data[ib(i)]));
    else for (let i = 0; i < shape[0]; i++) for (let j = 0; j < shape[1]; j++) data.push(f(a.data[ia(i, j)], b.data[ib(i, j)]));
    return build(shape, data);
  };
}

function reduction(name, f) {
  return (x, axis = null, keepdims = false) => {
    const a = read(x, `np.${name}() argument 1`);
    if (a.data.length === 0) throw new Error(`np.${name}(): zero-size array to reduction operation which has no identity`);
    if (axis === undefined || axis === null) {
      const total = a.data.reduce((acc, v) => f(acc, v));
      return keepdims ? build(a.shape.map(() => 1), [total]) : total;
    }
    if (!Number.isInteger(axis)) throw new Error(`np.${name}(): axis must be an integer (0 for columns, 1 for rows) or null, got ${describe(axis)}`);
    if (a.shape.length === 0) return a.data[0];
    const rank = a.shape.length;
    const k = axis < 0 ? axis + rank : axis;
    if (k < 0 || k >= rank) throw new Error(`np.${name}(): axis ${axis} is out of bounds for array of dimension ${rank}`);
    if (rank === 1) {
      const total = a.data.reduce((acc, v) => f(acc, v));
      return keepdims ? [total] : total;
    }
    const [rows, cols] = a.shape;
    const data = [];
    if (k === 0) {
      for (let j = 0; j < cols; j++) {
        let acc = a.data[j];
        for (let i = 1; i < rows; i++) acc = f(acc, a.data[i * cols + j]);
        data.push(acc);
      }
      return build(keepdims ? [1, cols] : [cols], data);
    }
    for (let i = 0; i < rows; i++) {
      let acc = a.data[i * cols];
      for (let j = 1; j < cols; j++) acc = f(acc, a.data[i * cols + j]);
      data.push(acc);
    }
    return build(keepdims ? [rows, 1] : [rows], data);
  };
}

export const np = Object.freeze({
  exp: unary("exp", Math.exp),
  negative: unary("negative", (v) => -v),
  add: binary("add", (u, v) => u + v),
  subtract: binary("subtract", (u, v) => u - v),
  multiply: binary("multiply", (u, v) => u * v),
  divide: binary("divide", (u, v) => u / v),
  maximum: binary("maximum", (u, v) => (Number.isNaN(u) || Number.isNaN(v) ? NaN : u > v ? u : v)),
  minimum: binary("minimum", (u, v) => (Number.isNaN(u) || Number.isNaN(v) ? NaN : u < v ? u : v)),
  max: reduction("max", (u, v) => (Number.isNaN(u) || Number.isNaN(v) ? NaN : u > v ? u : v)),
  sum: reduction("sum", (u, v) => u + v),
  shape(x) {
    return read(x, "np.shape() argument").shape;
  },
  copy(x) {
    const a = read(x, "np.copy() argument");
    return build(a.shape, a.data);
  },
  zeros(shape) {
    const dims = typeof shape === "number" ? [shape] : shape;
    if (!Array.isArray(dims) || dims.length > 2 || dims.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new Error(`np.zeros(): shape must be [rows, cols], [n] or n with whole numbers >= 0, got ${describe(shape)}`);
    }
    return build(dims, new Array(dims.reduce((p, d) => p * d, 1)).fill(0));
  },
});
