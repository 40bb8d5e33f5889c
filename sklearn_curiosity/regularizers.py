"""Regularizers: R(alpha, theta) and the derivatives the tangent needs.

A regularizer of the form ``R(alpha, theta) = alpha * Omega(theta)`` knows

- ``complexity(theta) = dR/dalpha = Omega(theta)``, the model complexity c;
- ``alpha_gradient(theta) = d/dalpha grad_theta R``, the right-hand side b of
  the tangent system ``H tau = -b`` (METHOD.md section 2);
- ``hessian_diagonal(alpha)`` where ``grad_theta^2 R`` is diagonal.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np


class L2Regularizer:
    """Ridge penalty ``R(alpha, theta) = alpha / 2 * ||theta[penalized]||^2``.

    With this scaling a linear model reproduces
    :class:`sklearn.linear_model.Ridge` with the same ``alpha``.

    Parameters
    ----------
    penalized : ndarray of bool, shape (n_params,)
        Which entries of ``theta`` are penalized (intercepts and biases are not).
    """

    def __init__(self, penalized):
        self.penalized = np.asarray(penalized, dtype=bool)

    def value(self, alpha, params):
        return alpha * self.complexity(params)

    def complexity(self, params):
        penalized = params[self.penalized]
        return 0.5 * float(penalized @ penalized)

    def alpha_gradient(self, params):
        return np.where(self.penalized, params, 0.0)

    def hessian_diagonal(self, alpha):
        return alpha * self.penalized.astype(float)
