// MUTANT: gradient_check_n's threshold is 1e-7 (the notebook's "say less than 10^-7") instead of the code's 2e-7.
import { np, str, dictionary_to_vector, vector_to_dictionary, gradients_to_vector, forward_propagation_n } from "gc_utils";

// GRADED FUNCTION: forward_propagation

/**
 * Implement the linear forward propagation (compute J) presented in Figure 1 (J(theta) = theta * x)
 *
 * @param {number} x - a real-valued input
 * @param {number} theta - our parameter, a real number as well
 * @returns {number} J - the value of function J, computed using the formula J(theta) = theta * x
 */
export function forward_propagation(x, theta) {
  const J = theta * x;

  return J;
}

// GRADED FUNCTION: backward_propagation

/**
 * Computes the derivative of J with respect to theta (see Figure 1).
 *
 * @param {number} x - a real-valued input
 * @param {number} theta - our parameter, a real number as well
 * @returns {number} dtheta - the gradient of the cost with respect to theta
 */
export function backward_propagation(x, theta) {
  const dtheta = x;

  return dtheta;
}

// GRADED FUNCTION: gradient_check

/**
 * Implement the gradient checking presented in Figure 1.
 *
 * @param {number} x - a float input
 * @param {number} theta - our parameter, a float as well
 * @param {number} epsilon - tiny shift to the input to compute approximated gradient with formula(1)
 * @param {boolean} print_msg - if true, print whether the gradient is correct
 * @returns {number} difference - difference (2) between the approximated gradient and the backward propagation gradient. Float output
 */
export function gradient_check(x, theta, epsilon = 1e-7, print_msg = false) {
  // Compute gradapprox using right side of formula (1). epsilon is small enough, you don't need to worry about the limit.
  const theta_plus = theta + epsilon;                       // Step 1
  const theta_minus = theta - epsilon;                      // Step 2
  const J_plus = forward_propagation(x, theta_plus);        // Step 3
  const J_minus = forward_propagation(x, theta_minus);      // Step 4
  const gradapprox = (J_plus - J_minus) / (2 * epsilon);    // Step 5

  // Check if gradapprox is close enough to the output of backward_propagation()
  const grad = backward_propagation(x, theta);

  const numerator = np.linalg.norm(grad - gradapprox);                        // Step 1'
  const denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox);     // Step 2'
  const difference = numerator / denominator;                                 // Step 3'

  if (print_msg) {
    if (difference > 2e-7) {
      console.log("\x1b[93m" + "There is a mistake in the backward propagation! difference = " + str(difference) + "\x1b[0m");
    } else {
      console.log("\x1b[92m" + "Your backward propagation works perfectly fine! difference = " + str(difference) + "\x1b[0m");
    }
  }

  return difference;
}

/**
 * Implement the backward propagation presented in figure 2 (with the notebook's two mistakes fixed:
 * dW2 is not doubled, and db1 uses 1/m). Not graded.
 *
 * @param {number[][]} X - input datapoint, of shape (input size, 1)
 * @param {number[][]} Y - true "label"
 * @param {Array} cache - cache output from forward_propagation_n()
 * @returns {Object} gradients - A dictionary with the gradients of the cost with respect to each parameter, activation and pre-activation variables.
 */
export function backward_propagation_n(X, Y, cache) {
  const m = np.shape(X)[1];
  const [Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3] = cache;

  const dZ3 = np.subtract(A3, Y);
  const dW3 = np.multiply(1 / m, np.dot(dZ3, np.transpose(A2)));
  const db3 = np.multiply(1 / m, np.sum(dZ3, 1, true));

  const dA2 = np.dot(np.transpose(W3), dZ3);
  const dZ2 = np.multiply(dA2, A2.map((row) => row.map((v) => (v > 0 ? 1 : 0))));  // np.int64(A2 > 0)
  const dW2 = np.multiply(1 / m, np.dot(dZ2, np.transpose(A1)));
  const db2 = np.multiply(1 / m, np.sum(dZ2, 1, true));

  const dA1 = np.dot(np.transpose(W2), dZ2);
  const dZ1 = np.multiply(dA1, A1.map((row) => row.map((v) => (v > 0 ? 1 : 0))));  // np.int64(A1 > 0)
  const dW1 = np.multiply(1 / m, np.dot(dZ1, np.transpose(X)));
  const db1 = np.multiply(1 / m, np.sum(dZ1, 1, true));

  const gradients = {
    dZ3: dZ3, dW3: dW3, db3: db3,
    dA2: dA2, dZ2: dZ2, dW2: dW2, db2: db2,
    dA1: dA1, dZ1: dZ1, dW1: dW1, db1: db1,
  };

  return gradients;
}

// GRADED FUNCTION: gradient_check_n

/**
 * Checks if backward_propagation_n computes correctly the gradient of the cost output by forward_propagation_n
 *
 * @param {Object} parameters - python dictionary containing your parameters "W1", "b1", "W2", "b2", "W3", "b3"
 * @param {Object} gradients - output of backward_propagation_n, contains gradients of the cost with respect to the parameters
 * @param {number[][]} X - input datapoint, of shape (input size, number of examples)
 * @param {number[][]} Y - true "label"
 * @param {number} epsilon - tiny shift to the input to compute approximated gradient with formula(1)
 * @param {boolean} print_msg - if true, print whether the gradient is correct
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

  // Compute gradapprox
  for (let i = 0; i < num_parameters; i++) {
    // Compute J_plus[i]. Inputs: "parameters_values, epsilon". Output = "J_plus[i]".
    const theta_plus = np.copy(parameters_values);                                        // Step 1
    theta_plus[i][0] = theta_plus[i][0] + epsilon;                                        // Step 2
    J_plus[i][0] = forward_propagation_n(X, Y, vector_to_dictionary(theta_plus))[0];      // Step 3

    // Compute J_minus[i]. Inputs: "parameters_values, epsilon". Output = "J_minus[i]".
    const theta_minus = np.copy(parameters_values);                                       // Step 1
    theta_minus[i][0] = theta_minus[i][0] - epsilon;                                      // Step 2
    J_minus[i][0] = forward_propagation_n(X, Y, vector_to_dictionary(theta_minus))[0];    // Step 3

    // Compute gradapprox[i]
    gradapprox[i][0] = (J_plus[i][0] - J_minus[i][0]) / (2 * epsilon);
  }

  // Compare gradapprox to backward propagation gradients by computing difference.
  const numerator = np.linalg.norm(np.subtract(grad, gradapprox));                      // Step 1'
  const denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox);                // Step 2'
  const difference = numerator / denominator;                                           // Step 3'

  if (print_msg) {
    if (difference > 1e-7) {
      console.log("\x1b[93m" + "There is a mistake in the backward propagation! difference = " + str(difference) + "\x1b[0m");
    } else {
      console.log("\x1b[92m" + "Your backward propagation works perfectly fine! difference = " + str(difference) + "\x1b[0m");
    }
  }

  return difference;
}
