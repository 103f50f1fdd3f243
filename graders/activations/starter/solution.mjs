// Activation functions: write your code between "YOUR CODE STARTS HERE" and "YOUR CODE ENDS HERE".
//
// Every function takes z, either a plain number or a 2-D array (an array of rows of equal length,
// like a numpy array: [[1, 2, 3], [4, 5, 6]] has 2 rows and 3 columns), and returns a NEW value of
// the same kind and shape: a number for a number, a 2-D array of the same shape for a 2-D array.
// Do not change z itself.
//
// `np` is a small numpy (see np_lite): np.exp, np.negative, np.add, np.subtract, np.multiply,
// np.divide, np.maximum, np.max(x, axis, keepdims), np.sum(x, axis, keepdims), ... They work on numbers
// and on arrays alike and never change their arguments. You may also write plain loops with Math.exp.
import { np } from "np_lite";

// GRADED FUNCTION: sigmoid

/**
 * Compute the sigmoid of z, elementwise.
 *
 * @param {number | number[][]} z - a number or a 2-D array of any shape
 * @returns {number | number[][]} s - sigmoid(z) = 1 / (1 + e^(-z)), of the same shape as z
 */
export function sigmoid(z) {
  let s;

  // (approx. 1 line)
  // s =
  // YOUR CODE STARTS HERE


  // YOUR CODE ENDS HERE

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
  let a;

  // (approx. 1 line)
  // a =
  // YOUR CODE STARTS HERE


  // YOUR CODE ENDS HERE

  return a;
}

// GRADED FUNCTION: softmax

/**
 * Compute the softmax of each COLUMN of z (numpy's axis=0): every column is one example and every
 * row one class, so each column of the result is positive and sums to 1.
 * Subtract each column's maximum before taking exp: softmax does not change, and exp no longer
 * overflows for large inputs such as 1000.
 * A plain number is one example with one class: its softmax is 1.
 *
 * @param {number | number[][]} z - a 2-D array of shape [classes, examples], or a number
 * @returns {number | number[][]} a - of the same shape as z
 */
export function softmax(z) {
  let shifted, e, a;

  // (approx. 3 lines)
  // shifted =                                        // z minus the maximum of its column
  // e =                                              // exp of shifted
  // a =                                              // e divided by the sum of its column
  // YOUR CODE STARTS HERE


  // YOUR CODE ENDS HERE

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
  let ds;

  // (approx. 1-2 lines)
  // ds =
  // YOUR CODE STARTS HERE


  // YOUR CODE ENDS HERE

  return ds;
}
