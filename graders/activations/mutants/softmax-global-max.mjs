// MUTANT: softmax subtracts the maximum of the whole array instead of each column's maximum.
import { np } from "np_lite";

// GRADED FUNCTION: sigmoid

/**
 * Compute the sigmoid of z, elementwise.
 *
 * @param {number | number[][]} z - a number or a 2-D array of any shape
 * @returns {number | number[][]} s - sigmoid(z) = 1 / (1 + e^(-z)), of the same shape as z
 */
export function sigmoid(z) {
  const s = np.divide(1, np.add(1, np.exp(np.negative(z))));
  return s;
}

// GRADED FUNCTION: relu

/**
 * Compute the ReLU of z, elementwise.
 *
 * @param {number | number[][]} z - a number or a 2-D array of any shape
 * @returns {number | number[][]} a - max(0, z), of the same shape as z
 */
export function relu(z) {
  const a = np.maximum(0, z);
  return a;
}

// GRADED FUNCTION: softmax

/**
 * Compute the softmax of each column of z (numpy's axis=0): every column is one example,
 * every row one class. Numerically stable: the column's maximum is subtracted before exp.
 *
 * @param {number | number[][]} z - a 2-D array of shape [classes, examples], or a number
 * @returns {number | number[][]} a - of the same shape as z; each column is positive and sums to 1
 */
export function softmax(z) {
  const shifted = np.subtract(z, np.max(z));
  const e = np.exp(shifted);
  const a = np.divide(e, np.sum(e, 0, true));
  return a;
}

// GRADED FUNCTION: sigmoid_derivative

/**
 * Compute the derivative of the sigmoid at z, elementwise: s * (1 - s) with s = sigmoid(z).
 *
 * @param {number | number[][]} z - a number or a 2-D array of any shape
 * @returns {number | number[][]} ds - of the same shape as z
 */
export function sigmoid_derivative(z) {
  const ds = np.multiply(sigmoid(z), np.subtract(1, sigmoid(z)));
  return ds;
}
