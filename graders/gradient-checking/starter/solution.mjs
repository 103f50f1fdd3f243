// Gradient Checking: write your code between "YOUR CODE STARTS HERE" and "YOUR CODE ENDS HERE".
//
// The variables you need are already declared with `let`: assign them (for example `J = ...`),
// do not declare them again with `let` or `const`.
// `np` is a small numpy: np.linalg.norm, np.copy, np.zeros, np.subtract, ... (see gc_utils).
// Arrays are nested JavaScript arrays: a column vector of n values is n rows of one value, [[a], [b], ...].
import { np, str, dictionary_to_vector, vector_to_dictionary, gradients_to_vector, forward_propagation_n } from "gc_utils";

// GRADED FUNCTION: forward_propagation

/**
 * Implement the linear forward propagation (compute J) presented in Figure 1 (J(theta) = theta * x)
 *
 * Arguments:
 * @param {number} x - a real-valued input
 * @param {number} theta - our parameter, a real number as well
 *
 * Returns:
 * @returns {number} J - the value of function J, computed using the formula J(theta) = theta * x
 */
export function forward_propagation(x, theta) {
  let J;

  // (approx. 1 line)
  // J =
  // YOUR CODE STARTS HERE


  // YOUR CODE ENDS HERE

  return J;
}

// GRADED FUNCTION: backward_propagation

/**
 * Computes the derivative of J with respect to theta (see Figure 1).
 *
 * Arguments:
 * @param {number} x - a real-valued input
 * @param {number} theta - our parameter, a real number as well
 *
 * Returns:
 * @returns {number} dtheta - the gradient of the cost with respect to theta
 */
export function backward_propagation(x, theta) {
  let dtheta;

  // (approx. 1 line)
  // dtheta =
  // YOUR CODE STARTS HERE


  // YOUR CODE ENDS HERE

  return dtheta;
}

// GRADED FUNCTION: gradient_check

/**
 * Implement the gradient checking presented in Figure 1.
 *
 * Arguments:
 * @param {number} x - a float input
 * @param {number} theta - our parameter, a float as well
 * @param {number} epsilon - tiny shift to the input to compute approximated gradient with formula(1)
 * @param {boolean} print_msg - if true, print the result of the check
 *
 * Returns:
 * @returns {number} difference - difference (2) between the approximated gradient and the backward propagation gradient. Float output
 */
export function gradient_check(x, theta, epsilon = 1e-7, print_msg = false) {
  let theta_plus, theta_minus, J_plus, J_minus, gradapprox;
  let grad;
  let numerator, denominator, difference;

  // Compute gradapprox using right side of formula (1). epsilon is small enough, you don't need to worry about the limit.
  // (approx. 5 lines)
  // theta_plus =                                     // Step 1
  // theta_minus =                                    // Step 2
  // J_plus =                                         // Step 3
  // J_minus =                                        // Step 4
  // gradapprox =                                     // Step 5
  // YOUR CODE STARTS HERE


  // YOUR CODE ENDS HERE

  // Check if gradapprox is close enough to the output of backward_propagation()
  // (approx. 1 line) DO NOT USE "grad = gradapprox"
  // grad =
  // YOUR CODE STARTS HERE


  // YOUR CODE ENDS HERE

  // (approx. 3 lines)
  // numerator =                                      // Step 1'
  // denominator =                                    // Step 2'
  // difference =                                     // Step 3'
  // YOUR CODE STARTS HERE


  // YOUR CODE ENDS HERE

  if (print_msg) {
    if (difference > 2e-7) {
      console.log("\x1b[93m" + "There is a mistake in the backward propagation! difference = " + str(difference) + "\x1b[0m");
    } else {
      console.log("\x1b[92m" + "Your backward propagation works perfectly fine! difference = " + str(difference) + "\x1b[0m");
    }
  }

  return difference;
}

// GRADED FUNCTION: gradient_check_n

/**
 * Checks if backward_propagation_n computes correctly the gradient of the cost output by forward_propagation_n
 *
 * Arguments:
 * @param {Object} parameters - python dictionary containing your parameters "W1", "b1", "W2", "b2", "W3", "b3"
 * @param {Object} gradients - output of backward_propagation_n, contains gradients of the cost with respect to the parameters
 * @param {number[][]} X - input datapoint, of shape (input size, number of examples)
 * @param {number[][]} Y - true "label"
 * @param {number} epsilon - tiny shift to the input to compute approximated gradient with formula(1)
 * @param {boolean} print_msg - if true, print the result of the check
 *
 * Returns:
 * @returns {number} difference - difference (2) between the approximated gradient and the backward propagation gradient
 */
export function gradient_check_n(parameters, gradients, X, Y, epsilon = 1e-7, print_msg = false) {
  // Set-up variables
  const [parameters_values, _] = dictionary_to_vector(parameters);

  const grad = gradients_to_vector(gradients);
  const num_parameters = np.shape(parameters_values)[0];
  const J_plus = np.zeros([num_parameters, 1]);
  const J_minus = np.zeros([num_parameters, 1]);
  const gradapprox = np.zeros([num_parameters, 1]);
  let theta_plus, theta_minus;
  let numerator, denominator, difference;

  // Compute gradapprox
  for (let i = 0; i < num_parameters; i++) {
    // Compute J_plus[i]. Inputs: "parameters_values, epsilon". Output = "J_plus[i]".
    // forward_propagation_n returns [cost, cache]: you only need the first one, the cost.
    // (approx. 3 lines)
    // theta_plus =                                   // Step 1
    // theta_plus[i][0] =                             // Step 2
    // J_plus[i][0] =                                 // Step 3
    // YOUR CODE STARTS HERE


    // YOUR CODE ENDS HERE

    // Compute J_minus[i]. Inputs: "parameters_values, epsilon". Output = "J_minus[i]".
    // (approx. 3 lines)
    // theta_minus =                                  // Step 1
    // theta_minus[i][0] =                            // Step 2
    // J_minus[i][0] =                                // Step 3
    // YOUR CODE STARTS HERE


    // YOUR CODE ENDS HERE

    // Compute gradapprox[i]
    // (approx. 1 line)
    // gradapprox[i][0] =
    // YOUR CODE STARTS HERE


    // YOUR CODE ENDS HERE
  }

  // Compare gradapprox to backward propagation gradients by computing difference.
  // (approx. 3 lines)
  // numerator =                                      // Step 1'
  // denominator =                                    // Step 2'
  // difference =                                     // Step 3'
  // YOUR CODE STARTS HERE


  // YOUR CODE ENDS HERE

  if (print_msg) {
    if (difference > 2e-7) {
      console.log("\x1b[93m" + "There is a mistake in the backward propagation! difference = " + str(difference) + "\x1b[0m");
    } else {
      console.log("\x1b[92m" + "Your backward propagation works perfectly fine! difference = " + str(difference) + "\x1b[0m");
    }
  }

  return difference;
}
