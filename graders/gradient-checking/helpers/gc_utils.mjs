/**
 * gc_utils: helper functions for the "Gradient Checking" assignment.
 *
 * This is the JavaScript version of the notebook's gc_utils.py, plus `np`,
 * a small numpy-like object with the numpy functions the notebook uses.
 *
 * How arrays are written:
 *   - a matrix is an array of rows: [[1, 2], [3, 4]] is a 2x2 matrix;
 *   - a column vector of n values is n rows of one value: [[1], [2], [3]];
 *   - a flat array of numbers, [1, 2, 3], is a 1-D array (as in numpy);
 *   - a plain number is a scalar.
 * Python tuples become arrays: `[cost, cache] = forward_propagation_n(...)`.
 *
 * None of these functions change their inputs: they always return new arrays.
 * Wrong inputs throw an Error with a message like numpy's.
 */

// ---------------------------------------------------------------------------
// Internal helpers (not exported). Inside this file an array is read into
// { shape, data }: shape is [] (a number), [n] (1-D) or [rows, cols] (2-D),
// and data lists all the elements row by row.
// ---------------------------------------------------------------------------

/** True for a JavaScript array (or a typed array such as Float64Array). */
function isList(x) {
  return Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}

/** A short description of a value, for error messages. */
function describe(value) {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "function") return "a function";
  if (isList(value)) return `an array of length ${value.length}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/** Formats a shape like numpy does: (47,1), (3,) or (). */
function formatShape(shape) {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(",")})`;
}

/** Checks that one element is a number (true/false count as 1/0, as in numpy). */
function toNumber(value, label, position) {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (position === "") {
    throw new Error(`${label}: expected a number or an array of numbers, got ${describe(value)}${stringHint(value)}`);
  }
  throw new Error(`${label}: expected numbers only, but element ${position} is ${describe(value)}${stringHint(value)}`);
}

/** A hint for a common JavaScript slip: [[0.5]][0] + 1e-7 is the string "0.51e-7". */
function stringHint(value) {
  if (typeof value !== "string" || !/[0-9]/.test(value)) return "";
  return "; in JavaScript, array + number joins them as text: add to the number inside, e.g. theta[i][0] + epsilon";
}

/** The error numpy gives for rows of different lengths. */
function raggedError(label, rows, detail) {
  return new Error(
    `${label}: setting an array element with a sequence. The requested array has an ` +
      `inhomogeneous shape after 1 dimensions. The detected shape was (${rows},) + ` +
      `inhomogeneous part. (${detail})`
  );
}

/**
 * Reads a number, a 1-D array or a 2-D array into { shape, data }.
 * `label` names the argument in error messages, e.g. "np.add() argument 1".
 */
function readArray(x, label) {
  if (!isList(x)) {
    return { shape: [], data: [toNumber(x, label, "")] };
  }
  const rows = x.length;

  // 1-D: a flat array of numbers.
  if (rows === 0 || !isList(x[0])) {
    const data = new Array(rows);
    for (let i = 0; i < rows; i++) {
      const v = x[i];
      data[i] = typeof v === "number" ? v : checkedElement(v, label, rows, `[${i}]`, `element [${i}] is an array but element [0] is not`);
    }
    return { shape: [rows], data };
  }

  // 2-D: an array of rows, all of the same length.
  const cols = x[0].length;
  const data = new Array(rows * cols);
  let n = 0;
  for (let i = 0; i < rows; i++) {
    const row = x[i];
    if (!isList(row)) {
      throw raggedError(label, rows, `row [${i}] is ${describe(row)}, not an array${stringHint(row)}`);
    }
    if (row.length !== cols) {
      throw raggedError(label, rows, `row [${i}] has length ${row.length} but row [0] has length ${cols}`);
    }
    for (let j = 0; j < cols; j++) {
      const v = row[j];
      data[n++] = typeof v === "number" ? v : checkedElement(v, label, rows, `[${i}][${j}]`, null);
    }
  }
  return { shape: [rows, cols], data };
}

/**
 * An element that is not a plain number (the common case is checked inline, for speed):
 * a boolean counts as 0/1; an array or anything else is an error.
 */
function checkedElement(value, label, rows, position, raggedDetail) {
  if (isList(value)) {
    if (raggedDetail !== null) throw raggedError(label, rows, raggedDetail);
    throw new Error(`${label}: only numbers, 1-D arrays and 2-D arrays are supported, but element ${position} is itself an array`);
  }
  return toNumber(value, label, position);
}

function writeArray({ shape, data }) {
  if (shape.length === 0) return data[0];
  if (shape.length === 1) return data.slice();
  const [rows, cols] = shape;
  const out = [];
  for (let i = 0; i < rows; i++) {
    out.push(data.slice(i * cols, (i + 1) * cols));
  }
  return out;
}

/** A shape seen as 2-D: () -> (1,1) and (n,) -> (1,n), as numpy broadcasting does. */
function as2d(shape) {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [1, shape[0]];
  return shape;
}

/** The shape two arrays broadcast to, following numpy's rules. */
function broadcastShapes(name, shapeA, shapeB) {
  const ndim = Math.max(shapeA.length, shapeB.length);
  const shape = [];
  // Compare the dimensions from the last one backwards; missing ones count as 1.
  for (let k = 1; k <= ndim; k++) {
    const dimA = k <= shapeA.length ? shapeA[shapeA.length - k] : 1;
    const dimB = k <= shapeB.length ? shapeB[shapeB.length - k] : 1;
    if (dimA !== dimB && dimA !== 1 && dimB !== 1) {
      throw new Error(
        `${name}: operands could not be broadcast together with shapes ` +
          `${formatShape(shapeA)} ${formatShape(shapeB)}`
      );
    }
    shape.unshift(dimA === 1 ? dimB : dimA);
  }
  return shape;
}

/** Applies op(a, b) element by element, with numpy broadcasting. */
function elementwise(name, a, b, op) {
  return writeArray(elementwiseData(name, readArray(a, `${name}() argument 1`), readArray(b, `${name}() argument 2`), op));
}

/** elementwise() on arrays already read into { shape, data }. */
function elementwiseData(name, A, B, op) {
  const shape = broadcastShapes(name, A.shape, B.shape);
  const [rowsA, colsA] = as2d(A.shape);
  const [rowsB, colsB] = as2d(B.shape);
  const [rows, cols] = as2d(shape);
  const data = new Array(rows * cols);
  let n = 0;
  for (let r = 0; r < rows; r++) {
    // A dimension of size 1 is repeated: always use its index 0.
    const rowA = (rowsA === 1 ? 0 : r) * colsA;
    const rowB = (rowsB === 1 ? 0 : r) * colsB;
    for (let c = 0; c < cols; c++) {
      data[n++] = op(A.data[rowA + (colsA === 1 ? 0 : c)], B.data[rowB + (colsB === 1 ? 0 : c)]);
    }
  }
  return { shape, data };
}

/** Applies f(v) to every element. */
function mapElements(name, x, f) {
  const A = readArray(x, `${name}() argument`);
  return writeArray({ shape: A.shape, data: A.data.map(f) });
}

// ---------------------------------------------------------------------------
// np: the numpy functions used in the notebook
// ---------------------------------------------------------------------------

/** np.copy(a): a new copy of a number, 1-D array or 2-D array. */
function copy(a) {
  return writeArray(readArray(a, "np.copy() argument"));
}

/**
 * np.zeros(shape): an array of zeros.
 * np.zeros([47, 1]) is 47 rows of [0]; np.zeros(3) and np.zeros([3]) are [0, 0, 0].
 */
function zeros(shape) {
  const dims = isList(shape) ? Array.from(shape) : [shape];
  if (dims.length > 2) {
    throw new Error(`np.zeros: only 1-D and 2-D shapes are supported, got ${dims.length} dimensions`);
  }
  for (const d of dims) {
    if (typeof d !== "number" || !Number.isInteger(d)) {
      throw new Error(`np.zeros: the shape must be whole numbers, like [47, 1]; got ${describe(d)}`);
    }
    if (d < 0) throw new Error("np.zeros: negative dimensions are not allowed");
  }
  const size = dims.reduce((product, d) => product * d, 1);
  return writeArray({ shape: dims, data: new Array(size).fill(0) });
}

/** np.shape(a): the shape as an array: [rows, cols] for a matrix, [n] for 1-D, [] for a number. */
function shape(a) {
  return readArray(a, "np.shape() argument").shape.slice();
}

const plus = (x, y) => x + y;
const minus = (x, y) => x - y;
const times = (x, y) => x * y;
const over = (x, y) => x / y;
// Same rule as numpy: NaN wins, and on a tie the first argument is kept.
const larger = (x, y) => (x >= y || Number.isNaN(x) ? x : y);

/** np.add(a, b): a + b element by element (numpy broadcasting). */
function add(a, b) {
  return elementwise("np.add", a, b, plus);
}

/** np.subtract(a, b): a - b element by element (numpy broadcasting). */
function subtract(a, b) {
  return elementwise("np.subtract", a, b, minus);
}

/** np.multiply(a, b): a * b element by element (numpy broadcasting). Not a matrix product: see np.dot. */
function multiply(a, b) {
  return elementwise("np.multiply", a, b, times);
}

/** np.divide(a, b): a / b element by element (numpy broadcasting). */
function divide(a, b) {
  return elementwise("np.divide", a, b, over);
}

/** np.maximum(a, b): the larger of a and b, element by element (numpy broadcasting). */
function maximum(a, b) {
  return elementwise("np.maximum", a, b, larger);
}

/**
 * np.dot(a, b): the matrix product.
 * (n,k)·(k,m) gives (n,m); with 1-D arrays: (k,)·(k,) is a number,
 * (n,k)·(k,) gives (n,) and (k,)·(k,m) gives (m,). With a number it multiplies.
 */
function dot(a, b) {
  const A = readArray(a, "np.dot() argument 1");
  const B = readArray(b, "np.dot() argument 2");
  if (A.shape.length === 0 || B.shape.length === 0) {
    return multiply(a, b);
  }
  return writeArray(dotData(A, B));
}

/** dot() on arrays already read into { shape, data } (neither of them a number). */
function dotData(A, B) {
  // A 1-D first argument acts as one row, a 1-D second argument as one column.
  const [n, k] = A.shape.length === 2 ? A.shape : [1, A.shape[0]];
  const [k2, m] = B.shape.length === 2 ? B.shape : [B.shape[0], 1];
  if (k !== k2) {
    throw new Error(
      `np.dot: shapes ${formatShape(A.shape)} and ${formatShape(B.shape)} not aligned: ` +
        `${k} (dim ${A.shape.length - 1}) != ${k2} (dim 0)`
    );
  }
  const data = new Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += A.data[i * k + p] * B.data[p * m + j];
      }
      data[i * m + j] = s;
    }
  }
  // Dimensions that came from a 1-D argument are dropped from the result.
  const resultShape = [];
  if (A.shape.length === 2) resultShape.push(n);
  if (B.shape.length === 2) resultShape.push(m);
  return { shape: resultShape, data };
}

/**
 * np.sum(a, axis, keepdims): numpy's sum, arguments in numpy's order.
 * axis null/undefined: the sum of all elements (a number).
 * axis 0: the sum of each column; axis 1 (or -1): the sum of each row.
 * keepdims true keeps the summed dimension with size 1:
 * np.sum([[1, 2], [3, 4]], 1, true) is [[3], [7]].
 */
function sum(a, axis, keepdims) {
  const A = readArray(a, "np.sum() argument 1");
  const ndim = A.shape.length;
  const keep = Boolean(keepdims);

  if (axis === undefined || axis === null) {
    let total = 0;
    for (const v of A.data) total += v;
    if (!keep) return total;
    return writeArray({ shape: A.shape.map(() => 1), data: [total] });
  }

  if (typeof axis !== "number" || !Number.isInteger(axis)) {
    throw new Error(`np.sum: axis must be a whole number (or null for the total), got ${describe(axis)}`);
  }
  const ax = axis < 0 ? axis + ndim : axis;
  if (ax < 0 || ax >= ndim) {
    throw new Error(`np.sum: axis ${axis} is out of bounds for array of dimension ${ndim}`);
  }

  if (ndim === 1) {
    let total = 0;
    for (const v of A.data) total += v;
    return keep ? [total] : total;
  }

  const [rows, cols] = A.shape;
  const data = [];
  if (ax === 0) {
    // the sum of each column
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += A.data[r * cols + c];
      data.push(s);
    }
    return writeArray({ shape: keep ? [1, cols] : [cols], data });
  }
  // the sum of each row
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += A.data[r * cols + c];
    data.push(s);
  }
  return writeArray({ shape: keep ? [rows, 1] : [rows], data });
}

/** np.log(a): natural logarithm, element by element. */
function log(a) {
  return mapElements("np.log", a, Math.log);
}

/** np.exp(a): e to the power a, element by element. */
function exp(a) {
  return mapElements("np.exp", a, Math.exp);
}

/** np.transpose(a): rows become columns (a.T in numpy). 1-D arrays and numbers are returned unchanged (copied). */
function transpose(a) {
  const A = readArray(a, "np.transpose() argument");
  if (A.shape.length < 2) return writeArray(A);
  const [rows, cols] = A.shape;
  const data = [];
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++) data.push(A.data[r * cols + c]);
  }
  return writeArray({ shape: [cols, rows], data });
}

/**
 * np.linalg.norm(a): the Euclidean (L2) norm, sqrt of the sum of the squares
 * of all the elements (numpy's default). np.linalg.norm(-3) is 3,
 * np.linalg.norm([3, 4]) and np.linalg.norm([[3], [4]]) are 5.
 */
function norm(a, ...options) {
  if (options.some((option) => option !== undefined && option !== null)) {
    throw new Error("np.linalg.norm: only the default norm is available here: call np.linalg.norm(x)");
  }
  const A = readArray(a, "np.linalg.norm() argument");
  let sumOfSquares = 0;
  for (const v of A.data) sumOfSquares += v * v;
  return Math.sqrt(sumOfSquares);
}

/** A small numpy: np.add, np.dot, np.sum, np.linalg.norm, ... (see each function above). */
export const np = Object.freeze({
  copy,
  zeros,
  shape,
  add,
  subtract,
  multiply,
  divide,
  dot,
  sum,
  log,
  exp,
  maximum,
  transpose,
  linalg: Object.freeze({ norm }),
});

// ---------------------------------------------------------------------------
// str: Python's str() for numbers
// ---------------------------------------------------------------------------

/**
 * str(x): formats a number like Python's str(), so messages match the notebook.
 * Whole numbers print like Python ints: str(8) is "8". Other numbers use the
 * shortest digits that read back to the same value, switching to scientific
 * notation below 1e-4 or from 1e16 on: str(2.5e-5) is "2.5e-05",
 * str(0.0001) is "0.0001". NaN is "nan", Infinity is "inf".
 * Anything that is not a number is converted with String(x).
 */
export function str(x) {
  if (typeof x !== "number") return String(x);
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (Number.isSafeInteger(x)) return String(x); // -0 prints as "0", like Python's int 0

  // Shortest digits, e.g. (0.00025).toExponential() is "2.5e-4": digits "25", exponent -4.
  const sign = x < 0 ? "-" : "";
  const [mantissa, exponentText] = Math.abs(x).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);

  if (exponent < -4 || exponent >= 16) {
    // scientific notation, with a sign and at least two digits in the exponent
    const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exponent < 0 ? "-" : "+";
    const expDigits = String(Math.abs(exponent)).padStart(2, "0");
    return `${sign}${head}e${expSign}${expDigits}`;
  }
  if (exponent < 0) {
    // 0.000ddd
    return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  }
  // ddd.ddd (a whole float this large still gets ".0", as in Python)
  const intDigits = exponent + 1;
  if (digits.length <= intDigits) {
    return `${sign}${digits.padEnd(intDigits, "0")}.0`;
  }
  return `${sign}${digits.slice(0, intDigits)}.${digits.slice(intDigits)}`;
}

// ---------------------------------------------------------------------------
// The notebook's model helpers
// ---------------------------------------------------------------------------

/** sigmoid(x) = 1 / (1 + exp(-x)), element by element (x: a number or an array). */
const sigmoidOf = (v) => 1 / (1 + Math.exp(-v));

export function sigmoid(x) {
  return mapElements("sigmoid", x, sigmoidOf);
}

/** relu(x) = max(0, x), element by element (x: a number or an array). */
export function relu(x) {
  return np.maximum(0, x);
}

/** The parameters in the order used by the vectors: name and shape. */
const PARAMETER_SHAPES = [
  ["W1", [5, 4]],
  ["b1", [5, 1]],
  ["W2", [3, 5]],
  ["b2", [3, 1]],
  ["W3", [1, 3]],
  ["b3", [1, 1]],
];

/** Reads dictionary[key], with a clear error if it is missing. */
function getEntry(dictionary, key, functionName, argumentName) {
  if (dictionary === null || typeof dictionary !== "object" || dictionary[key] === undefined) {
    throw new Error(`${functionName}: ${argumentName} has no "${key}"`);
  }
  return dictionary[key];
}

/** Puts the elements of each dictionary entry, in order, into one column vector. */
function stackAsColumn(dictionary, keys, functionName, argumentName) {
  const column = [];
  const keyList = [];
  for (const key of keys) {
    const value = getEntry(dictionary, key, functionName, argumentName);
    const { data } = readArray(value, `${functionName}: ${argumentName}["${key}"]`);
    for (const v of data) {
      column.push([v]);
      keyList.push(key);
    }
  }
  return [column, keyList];
}

/**
 * dictionary_to_vector(parameters): returns [theta, keys].
 * theta is a column vector (47x1) with the elements of W1 (row by row), b1,
 * W2, b2, W3 and b3; keys[i] is the name of the parameter theta[i] comes from.
 */
export function dictionary_to_vector(parameters) {
  const names = PARAMETER_SHAPES.map(([name]) => name);
  return stackAsColumn(parameters, names, "dictionary_to_vector", "parameters");
}

/**
 * vector_to_dictionary(theta): the inverse of dictionary_to_vector.
 * theta is a 47x1 column vector (or a flat array of 47 numbers); returns
 * { W1 (5x4), b1 (5x1), W2 (3x5), b2 (3x1), W3 (1x3), b3 (1x1) }.
 */
export function vector_to_dictionary(theta) {
  const T = readArray(theta, "vector_to_dictionary() theta");
  const isColumn = T.shape.length === 2 && T.shape[1] === 1;
  const isFlat = T.shape.length === 1;
  if (!(isColumn || isFlat) || T.data.length !== 47) {
    throw new Error(
      "vector_to_dictionary: theta must be a 47x1 column vector (or a flat array of 47 numbers), " +
        `got shape ${formatShape(T.shape)}`
    );
  }
  const parameters = {};
  let start = 0;
  for (const [name, [rows, cols]] of PARAMETER_SHAPES) {
    const size = rows * cols;
    parameters[name] = writeArray({ shape: [rows, cols], data: T.data.slice(start, start + size) });
    start += size;
  }
  return parameters;
}

/**
 * gradients_to_vector(gradients): one column vector (47x1) with the elements
 * of dW1 (row by row), db1, dW2, db2, dW3 and db3. Other keys are ignored.
 */
export function gradients_to_vector(gradients) {
  const names = PARAMETER_SHAPES.map(([name]) => "d" + name);
  return stackAsColumn(gradients, names, "gradients_to_vector", "gradients")[0];
}

/** Number of columns of X (X.shape[1] in numpy), with a clear error if X is not 2-D. */
function numberOfExamples(X, functionName) {
  const dims = readArray(X, `${functionName}() X`).shape;
  if (dims.length !== 2) {
    throw new Error(
      `${functionName}: X must be a 2-D array of shape (input size, number of examples), ` +
        `got shape ${formatShape(dims)}`
    );
  }
  return dims[1];
}

/** parameters[key], read (and so copied: the cache never shares arrays with the caller). */
function readParameter(parameters, key) {
  const value = getEntry(parameters, key, "forward_propagation_n", "parameters");
  return readArray(value, `forward_propagation_n: parameters["${key}"]`);
}

const ZERO = { shape: [], data: [0] };
const ONE = { shape: [], data: [1] };

/**
 * forward_propagation_n(X, Y, parameters): the notebook's forward propagation
 * LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID, and the logistic cost.
 * X: (input size, m); Y: labels (1, m); parameters: W1, b1, W2, b2, W3, b3.
 * Returns [cost, cache], cache = [Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3].
 *
 * Each line does what the numpy line in its comment does, with the same arithmetic in the same
 * order (so the values are numpy's, to the last digit or nearly). It works on arrays read once
 * into { shape, data } instead of calling np.* on nested arrays, because gradient checking calls it
 * twice per parameter: 94 times per gradient_check_n.
 */
export function forward_propagation_n(X, Y, parameters) {
  // retrieve parameters
  const x = readArray(X, "forward_propagation_n() X");
  if (x.shape.length !== 2) {
    throw new Error(
      "forward_propagation_n: X must be a 2-D array of shape (input size, number of examples), " +
        `got shape ${formatShape(x.shape)}`
    );
  }
  const m = x.shape[1];
  const y = readArray(Y, "forward_propagation_n() Y");
  const W1 = readParameter(parameters, "W1");
  const b1 = readParameter(parameters, "b1");
  const W2 = readParameter(parameters, "W2");
  const b2 = readParameter(parameters, "b2");
  const W3 = readParameter(parameters, "W3");
  const b3 = readParameter(parameters, "b3");

  // LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID
  const Z1 = elementwiseData("np.add", dotData(W1, x), b1, plus);        // Z1 = np.dot(W1, X) + b1
  const A1 = elementwiseData("np.maximum", ZERO, Z1, larger);            // A1 = relu(Z1)
  const Z2 = elementwiseData("np.add", dotData(W2, A1), b2, plus);       // Z2 = np.dot(W2, A1) + b2
  const A2 = elementwiseData("np.maximum", ZERO, Z2, larger);            // A2 = relu(Z2)
  const Z3 = elementwiseData("np.add", dotData(W3, A2), b3, plus);       // Z3 = np.dot(W3, A2) + b3
  const A3 = { shape: Z3.shape, data: Z3.data.map(sigmoidOf) };          // A3 = sigmoid(Z3)

  // Cost: log_probs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
  const minusLogA3 = { shape: A3.shape, data: A3.data.map((v) => -1 * Math.log(v)) };
  const oneMinusA3 = elementwiseData("np.subtract", ONE, A3, minus);
  const minusLogOneMinusA3 = { shape: oneMinusA3.shape, data: oneMinusA3.data.map((v) => -1 * Math.log(v)) };
  const log_probs = elementwiseData(
    "np.add",
    elementwiseData("np.multiply", minusLogA3, y, times),
    elementwiseData("np.multiply", minusLogOneMinusA3, elementwiseData("np.subtract", ONE, y, minus), times),
    plus
  );
  let total = 0;
  for (const v of log_probs.data) total += v;
  const cost = (1 / m) * total;                                          // cost = 1./m * np.sum(log_probs)

  const cache = [Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3].map(writeArray);
  return [cost, cache];
}

/** np.int64(A > 0) in numpy: 1 where A > 0, else 0. */
function positiveMask(A) {
  const { shape, data } = readArray(A, "backward_propagation_n: cache");
  return writeArray({ shape, data: data.map((v) => (v > 0 ? 1 : 0)) });
}

/**
 * backward_propagation_n(X, Y, cache): the notebook's backward propagation,
 * INCLUDING ITS MISTAKES (the gradient check is meant to find them).
 * cache is the second value returned by forward_propagation_n.
 * Returns { dZ3, dW3, db3, dA2, dZ2, dW2, db2, dA1, dZ1, dW1, db1 }.
 */
export function backward_propagation_n(X, Y, cache) {
  const m = numberOfExamples(X, "backward_propagation_n");
  if (!Array.isArray(cache) || cache.length !== 12) {
    throw new Error(
      "backward_propagation_n: cache must be the second value returned by forward_propagation_n " +
        "([Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3])"
    );
  }
  const [Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3] = cache;

  const dZ3 = np.subtract(A3, Y);
  const dW3 = np.multiply(1 / m, np.dot(dZ3, np.transpose(A2)));
  const db3 = np.multiply(1 / m, np.sum(dZ3, 1, true));

  const dA2 = np.dot(np.transpose(W3), dZ3);
  const dZ2 = np.multiply(dA2, positiveMask(A2));
  const dW2 = np.multiply(np.multiply(1 / m, np.dot(dZ2, np.transpose(A1))), 2);
  const db2 = np.multiply(1 / m, np.sum(dZ2, 1, true));

  const dA1 = np.dot(np.transpose(W2), dZ2);
  const dZ1 = np.multiply(dA1, positiveMask(A1));
  const dW1 = np.multiply(1 / m, np.dot(dZ1, np.transpose(X)));
  const db1 = np.multiply(4 / m, np.sum(dZ1, 1, true));

  return { dZ3, dW3, db3, dA2, dZ2, dW2, db2, dA1, dZ1, dW1, db1 };
}
